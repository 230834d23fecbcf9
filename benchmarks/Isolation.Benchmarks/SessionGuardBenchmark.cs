using System.Data.Common;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// One command (<c>SELECT 1</c>, prepared) on SQLite in memory: on the raw connection (the baseline) and on the guarded
/// connection from <see cref="SessionGuardExtensions.AsDbConnection{TConnection}"/>, which checks scope, disposal and
/// concurrent use around every execution. Synchronous and asynchronous execution are compared separately.
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class SessionGuardBenchmark
{
    private ServiceProvider _provider = null!;
    private IsolationScope _scope = null!;
    private SessionGuard<SqliteConnection> _guard = null!;
    private DbCommand _raw = null!;
    private DbCommand _guarded = null!;

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddIsolation(o => o.Mode = IsolationMode.Enforce)
            .AddIsolatedSession<SqliteConnection>(Sqlite.OpenAsync)
            .BuildServiceProvider();
        _scope = _provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("bench"));

        // Completes synchronously: the SQLite factory returns a completed ValueTask.
        _guard = _scope.OpenSessionAsync<SqliteConnection>().AsTask().GetAwaiter().GetResult();
        _raw = Prepare(_guard.Session);
        _guarded = Prepare(_guard.AsDbConnection());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw.Dispose();
        _guarded.Dispose();
        _guard.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _scope.Dispose();
        _provider.Dispose();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Sync")]
    public object? RawExecuteScalar() => _raw.ExecuteScalar();

    [Benchmark]
    [BenchmarkCategory("Sync")]
    public object? GuardedExecuteScalar() => _guarded.ExecuteScalar();

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Async")]
    public Task<object?> RawExecuteScalarAsync() => _raw.ExecuteScalarAsync();

    [Benchmark]
    [BenchmarkCategory("Async")]
    public Task<object?> GuardedExecuteScalarAsync() => _guarded.ExecuteScalarAsync();

    private static DbCommand Prepare(DbConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        command.Prepare();
        return command;
    }
}
