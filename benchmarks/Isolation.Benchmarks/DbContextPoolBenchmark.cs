using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// Renting a pooled context and returning it, through <c>IDbContextFactory</c> of <c>AddPooledDbContextFactory</c>: plain,
/// and with <c>UseIsolation()</c> plus <c>AddPooledDbContextChecks</c> (the pristine check at every return and the discard
/// check at every rent). The context already ran a query, so the guard exists, as in an app. Goal: at most 1.2x.
/// </summary>
public class DbContextPoolBenchmark
{
    private SqliteConnection _keepAlive = null!;
    private ServiceProvider _plain = null!;
    private ServiceProvider _isolated = null!;
    private IsolationScope _scope = null!;
    private IDbContextFactory<BenchNotesDb> _plainFactory = null!;
    private IDbContextFactory<BenchNotesDb> _isolatedFactory = null!;

    [GlobalSetup]
    public void Setup()
    {
        const string ConnectionString = "Data Source=bench-pool;Mode=Memory;Cache=Shared";
        _keepAlive = new SqliteConnection(ConnectionString);
        _keepAlive.Open();
        _plain = Build(ConnectionString, isolated: false);
        _isolated = Build(ConnectionString, isolated: true);
        _scope = _isolated.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("bench"));
        _plainFactory = _plain.GetRequiredService<IDbContextFactory<BenchNotesDb>>();
        _isolatedFactory = _isolated.GetRequiredService<IDbContextFactory<BenchNotesDb>>();
        using (var db = _plainFactory.CreateDbContext())
        {
            db.Database.EnsureCreated();
            _ = db.Notes.Count();
        }

        using (var db = _isolatedFactory.CreateDbContext())
        {
            _ = db.Notes.Count();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scope.Dispose();
        _plain.Dispose();
        _isolated.Dispose();
        _keepAlive.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void RentReturnPlain()
    {
        using var db = _plainFactory.CreateDbContext();
    }

    [Benchmark]
    public void RentReturnChecked()
    {
        using var db = _isolatedFactory.CreateDbContext();
    }

    private static ServiceProvider Build(string connectionString, bool isolated)
    {
        var services = new ServiceCollection().AddIsolation(o => o.Mode = IsolationMode.Enforce);
        services.AddPooledDbContextFactory<BenchNotesDb>(o =>
        {
            o.UseSqlite(connectionString);
            if (isolated)
            {
                o.UseIsolation();
            }
        });
        if (isolated)
        {
            services.AddPooledDbContextChecks<BenchNotesDb>();
        }

        return services.BuildServiceProvider();
    }
}
