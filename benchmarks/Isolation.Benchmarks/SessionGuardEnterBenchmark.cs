using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// The guard's <see cref="SessionGuard{TSession}.Enter"/> and the access's dispose alone, without a command. The baseline
/// is the floor of any concurrent-use detector: one compare-exchange to mark the session busy and one volatile write to
/// free it. <c>Enter</c> adds the disposal check and the ambient-scope check. Goal: at most 20 ns and 0 bytes.
/// </summary>
public class SessionGuardEnterBenchmark
{
    private ServiceProvider _enforce = null!;
    private ServiceProvider _off = null!;
    private IsolationScope _enforceScope = null!;
    private IsolationScope _offScope = null!;
    private SessionGuard<SqliteConnection> _guard = null!;
    private SessionGuard<SqliteConnection> _offGuard = null!;
    private readonly object _lock = new();
    private int _busy;

    [GlobalSetup]
    public void Setup()
    {
        // Off first: the scope created last (Enforce) is the benchmark thread's ambient scope, as inside a request.
        (_off, _offScope, _offGuard) = Open(IsolationMode.Off);
        (_enforce, _enforceScope, _guard) = Open(IsolationMode.Enforce);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _guard.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _offGuard.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _enforceScope.Dispose();
        _offScope.Dispose();
        _enforce.Dispose();
        _off.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void BusyFlag()
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    [Benchmark]
    public void Lock()
    {
        lock (_lock)
        {
            _busy++;
        }
    }

    [Benchmark]
    public void Enter()
    {
        using var access = _guard.Enter();
    }

    [Benchmark]
    public void EnterModeOff()
    {
        using var access = _offGuard.Enter();
    }

    private static (ServiceProvider Provider, IsolationScope Scope, SessionGuard<SqliteConnection> Guard) Open(IsolationMode mode)
    {
        var provider = new ServiceCollection()
            .AddIsolation(o => o.Mode = mode)
            .AddIsolatedSession<SqliteConnection>(Sqlite.OpenAsync)
            .BuildServiceProvider();
        var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("bench"));
        return (provider, scope, scope.OpenSessionAsync<SqliteConnection>().AsTask().GetAwaiter().GetResult());
    }
}
