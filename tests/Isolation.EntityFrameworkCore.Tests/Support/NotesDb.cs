using Microsoft.EntityFrameworkCore;

namespace Isolation.EntityFrameworkCore.Tests.Support;

public sealed class Note
{
    public int Id { get; set; }

    public string Tenant { get; set; } = "";

    public string Text { get; set; } = "";
}

/// <summary>A context with per-request tenant state: a global query filter reads <see cref="TenantId"/>.</summary>
public sealed class NotesDb(DbContextOptions<NotesDb> options) : DbContext(options)
{
    public DbSet<Note> Notes => Set<Note>();

    [TenantState]
    public string? TenantId { get; set; }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Note>().HasQueryFilter(n => TenantId == null || n.Tenant == TenantId);
    }
}
