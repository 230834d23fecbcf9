using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// A scope that gets one agent and ends: the scope alone (baseline), with a fresh agent, and with a pooled agent
/// (rent, reset on return). The pooled row should allocate no more than the scope alone.
/// </summary>
public class PooledAgentBenchmark
{
    private ServiceProvider _provider = null!;
    private IIsolationScopeFactory _scopes = null!;
    private UserExecutionContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddIsolation(o => o.LeakDetection = LeakDetectionLevel.Disabled)
            .AddIsolatedAgent<FreshAgent>()
            .AddIsolatedAgent<PooledAgent>(o => o.UsePool = true)
            .BuildServiceProvider();
        _scopes = _provider.GetRequiredService<IIsolationScopeFactory>();
        _context = new UserExecutionContext("bench");
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true)]
    public void ScopeOnly()
    {
        using var scope = _scopes.CreateScope(_context);
    }

    [Benchmark]
    public void ScopeWithFreshAgent()
    {
        using var scope = _scopes.CreateScope(_context);
        scope.GetAgent<FreshAgent>().Add("note");
    }

    [Benchmark]
    public void ScopeWithPooledAgent()
    {
        using var scope = _scopes.CreateScope(_context);
        scope.GetAgent<PooledAgent>().Add("note");
    }
}
