using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.EntityFrameworkCore.Tests.Support;

public enum Registration
{
    AddDbContext,
    AddDbContextPool,
    AddDbContextFactory,
    AddPooledDbContextFactory,
}

/// <summary>
/// The isolation runtime plus <see cref="NotesDb"/> on a SQLite file of its own (deleted on dispose), registered one of the
/// four ways, with <c>UseIsolation()</c>. Collects every reported violation.
/// </summary>
public sealed class EfTestHost : IAsyncDisposable
{
    private readonly string _path;
    private readonly ConcurrentQueue<IsolationViolation> _violations = new();

    private EfTestHost(string path, ServiceProvider provider, BlockingInterceptor blocker, RecordingInterceptor recorder)
    {
        _path = path;
        Blocker = blocker;
        Recorder = recorder;
        Provider = provider;
        Scopes = provider.GetRequiredService<IIsolationScopeFactory>();
        Monitor = provider.GetRequiredService<IsolationMonitor>();
        Monitor.ViolationDetected += (_, e) => _violations.Enqueue(e.Violation);
    }

    public ServiceProvider Provider { get; }

    public IIsolationScopeFactory Scopes { get; }

    public IsolationMonitor Monitor { get; }

    public BlockingInterceptor Blocker { get; }

    public RecordingInterceptor Recorder { get; }

    public IReadOnlyList<IsolationViolation> Violations => [.. _violations];

    public static async Task<EfTestHost> CreateAsync(
        Registration registration = Registration.AddDbContextPool,
        IsolationMode mode = IsolationMode.Enforce,
        Action<IsolationDbContextOptions>? isolation = null,
        int poolSize = 16,
        bool poolChecks = true,
        bool threadSafetyChecks = true,
        int seedPerTenant = 3,
        int tenants = 4)
    {
        var path = Path.Combine(Path.GetTempPath(), "iso_ef_" + Guid.NewGuid().ToString("N") + ".db");
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ConnectionString;
        var services = new ServiceCollection();
        services.AddIsolation(o => o.Mode = mode);
        var blocker = new BlockingInterceptor();
        var recorder = new RecordingInterceptor();

        void Configure(DbContextOptionsBuilder o)
        {
            o.UseSqlite(connectionString)
                .EnableThreadSafetyChecks(threadSafetyChecks)
                .AddInterceptors(blocker, recorder)
                .UseIsolation(isolation ?? (static _ => { }));
        }

        switch (registration)
        {
            case Registration.AddDbContext:
                services.AddDbContext<NotesDb>(Configure);
                break;
            case Registration.AddDbContextPool:
                services.AddDbContextPool<NotesDb>(Configure, poolSize);
                if (poolChecks)
                {
                    services.AddPooledDbContextChecks<NotesDb>();
                }

                break;
            case Registration.AddDbContextFactory:
                services.AddDbContextFactory<NotesDb>(Configure);
                break;
            case Registration.AddPooledDbContextFactory:
                services.AddPooledDbContextFactory<NotesDb>(Configure, poolSize);
                if (poolChecks)
                {
                    services.AddPooledDbContextChecks<NotesDb>();
                }

                break;
        }

        var host = new EfTestHost(path, services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true }), blocker, recorder);
        await host.SeedAsync(seedPerTenant, tenants, connectionString);
        return host;
    }

    public static string Tenant(int i) => "tenant-" + i;

    public IsolationScope Scope(string user = "alice") => Scopes.CreateScope(new UserExecutionContext(user));

    /// <summary>The context of <paramref name="scope"/>: from its services for AddDbContext/AddDbContextPool, from the factory otherwise.</summary>
    public NotesDb Context(IsolationScope scope)
        => scope.Services.GetService<IDbContextFactory<NotesDb>>() is { } factory
            ? factory.CreateDbContext()
            : scope.Services.GetRequiredService<NotesDb>();

    public async ValueTask DisposeAsync()
    {
        await Provider.DisposeAsync();
        SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }

    private async Task SeedAsync(int perTenant, int tenants, string connectionString)
    {
        // Schema and rows through a plain context, outside the isolation checks.
        var options = new DbContextOptionsBuilder<NotesDb>().UseSqlite(connectionString).Options;
        await using var db = new NotesDb(options);
        await db.Database.EnsureCreatedAsync();
        for (var t = 0; t < tenants; t++)
        {
            for (var n = 0; n < perTenant; n++)
            {
                db.Notes.Add(new Note { Tenant = Tenant(t), Text = Tenant(t) + " note " + n });
            }
        }

        await db.SaveChangesAsync();
    }
}
