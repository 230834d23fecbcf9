using Isolation.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Isolation.Benchmarks;

public sealed class BenchNote
{
    public int Id { get; set; }

    public string Tenant { get; set; } = "";

    public string Text { get; set; } = "";
}

/// <summary>The context of the EF Core benchmarks: one table and one piece of tenant state, as a multi-tenant app has.</summary>
public sealed class BenchNotesDb(DbContextOptions<BenchNotesDb> options) : DbContext(options)
{
    public DbSet<BenchNote> Notes => Set<BenchNote>();

    [TenantState]
    public string? TenantId { get; set; }
}
