using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// What <c>UseIsolation()</c> adds to EF Core's own work, on SQLite in memory: a SaveChanges of one entity and a single-row
/// query, each with and without the guard (the context bound to an Enforce scope, as inside a request). Goal: at most 3 % or
/// 1 us added, whichever is larger.
/// </summary>
public class DbContextBenchmark
{
    private SqliteConnection _plainConnection = null!;
    private SqliteConnection _isolatedConnection = null!;
    private ServiceProvider _provider = null!;
    private IsolationScope _scope = null!;
    private BenchNotesDb _plain = null!;
    private BenchNotesDb _isolated = null!;

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection().AddIsolation(o => o.Mode = IsolationMode.Enforce).BuildServiceProvider();
        _scope = _provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("bench"));
        (_plainConnection, _plain) = Open(isolated: false);
        (_isolatedConnection, _isolated) = Open(isolated: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _isolated.Dispose();
        _plainConnection.Dispose();
        _isolatedConnection.Dispose();
        _scope.Dispose();
        _provider.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int SaveChangesPlain() => SaveOne(_plain);

    [Benchmark]
    public int SaveChangesIsolated() => SaveOne(_isolated);

    [Benchmark]
    public BenchNote QueryPlain() => QueryOne(_plain);

    [Benchmark]
    public BenchNote QueryIsolated() => QueryOne(_isolated);

    private static int SaveOne(BenchNotesDb db)
    {
        db.Notes.Add(new BenchNote { Tenant = "t", Text = "saved" });
        var saved = db.SaveChanges();
        db.ChangeTracker.Clear();
        return saved;
    }

    private static BenchNote QueryOne(BenchNotesDb db) => db.Notes.AsNoTracking().First(n => n.Id == 1);

    private (SqliteConnection Connection, BenchNotesDb Db) Open(bool isolated)
    {
        var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        var builder = new DbContextOptionsBuilder<BenchNotesDb>().UseSqlite(connection);
        if (isolated)
        {
            builder.UseIsolation();
        }

        var db = new BenchNotesDb(builder.Options);
        db.Database.EnsureCreated();
        db.Notes.Add(new BenchNote { Tenant = "t", Text = "first" });
        db.SaveChanges();
        db.ChangeTracker.Clear();
        return (connection, db);
    }
}
