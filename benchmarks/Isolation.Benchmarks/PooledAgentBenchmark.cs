using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// A scope that gets one agent and ends: the scope alone (baseline), with a fresh agent, and with a pooled agent (get from
/// the pool, reset and return when the scope ends), by constructor dependency count. The pooled row's extra time over the
/// baseline is the pooled factory's get + reset + return; it should allocate exactly what the scope alone allocates.
/// </summary>
/// <remarks>
/// Pooled agents are activated with the root provider, so their dependencies are singletons here; the fresh agents get
/// the same singletons, so both paths resolve the same services.
/// </remarks>
public class PooledAgentBenchmark
{
    private ServiceProvider _provider = null!;
    private IIsolationScopeFactory _scopes = null!;
    private UserExecutionContext _context = null!;

    [Params(0, 3, 6)]
    public int Dependencies { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddIsolation(o => o.LeakDetection = LeakDetectionLevel.Disabled)
            .AddSingleton<Dep1>().AddSingleton<Dep2>().AddSingleton<Dep3>().AddSingleton<Dep4>().AddSingleton<Dep5>().AddSingleton<Dep6>()
            .AddIsolatedAgent<Agent0>().AddIsolatedAgent<Agent3>().AddIsolatedAgent<Agent6>()
            .AddIsolatedAgent<PooledAgent>(o => o.UsePool = true)
            .AddIsolatedAgent<PooledAgent3>(o => o.UsePool = true)
            .AddIsolatedAgent<PooledAgent6>(o => o.UsePool = true)
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
    public object ScopeWithFreshAgent()
    {
        using var scope = _scopes.CreateScope(_context);
        return Dependencies switch
        {
            0 => scope.GetAgent<Agent0>(),
            3 => scope.GetAgent<Agent3>(),
            _ => scope.GetAgent<Agent6>(),
        };
    }

    [Benchmark]
    public void ScopeWithPooledAgent()
    {
        using var scope = _scopes.CreateScope(_context);
        var agent = Dependencies switch
        {
            0 => scope.GetAgent<PooledAgent>(),
            3 => scope.GetAgent<PooledAgent3>(),
            _ => scope.GetAgent<PooledAgent6>(),
        };
        agent.Add("note");
    }
}
