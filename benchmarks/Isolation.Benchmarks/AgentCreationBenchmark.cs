using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// Creating one agent: plain <c>new</c> (the floor), a DI transient resolve (the baseline: what an application without
/// Isolation does), <c>ActivatorUtilities.CreateInstance</c> (reflection per call) and Isolation's fresh factory
/// (constructor call compiled once), by constructor dependency count. Goal: the fresh factory at most 1.5x the DI resolve.
/// </summary>
public class AgentCreationBenchmark
{
    private ServiceProvider _provider = null!;
    private AsyncServiceScope _serviceScope;
    private IsolationScope _scope = null!;
    private IAgentFactory<Agent0> _factory0 = null!;
    private IAgentFactory<Agent3> _factory3 = null!;
    private IAgentFactory<Agent6> _factory6 = null!;
    private Dep1 _d1 = null!;
    private Dep2 _d2 = null!;
    private Dep3 _d3 = null!;
    private Dep4 _d4 = null!;
    private Dep5 _d5 = null!;
    private Dep6 _d6 = null!;

    [Params(0, 3, 6)]
    public int Dependencies { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection()
            .AddIsolation(o => o.LeakDetection = LeakDetectionLevel.Disabled)
            .AddScoped<Dep1>().AddScoped<Dep2>().AddScoped<Dep3>().AddScoped<Dep4>().AddScoped<Dep5>().AddScoped<Dep6>()
            .AddTransient<Agent0>().AddTransient<Agent3>().AddTransient<Agent6>()
            .AddIsolatedAgent<Agent0>().AddIsolatedAgent<Agent3>().AddIsolatedAgent<Agent6>();
        _provider = services.BuildServiceProvider();
        _serviceScope = _provider.CreateAsyncScope();
        _scope = _provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("bench"));
        _factory0 = _provider.GetRequiredService<IAgentFactory<Agent0>>();
        _factory3 = _provider.GetRequiredService<IAgentFactory<Agent3>>();
        _factory6 = _provider.GetRequiredService<IAgentFactory<Agent6>>();
        var sp = _serviceScope.ServiceProvider;
        (_d1, _d2, _d3, _d4, _d5, _d6) = (sp.GetRequiredService<Dep1>(), sp.GetRequiredService<Dep2>(), sp.GetRequiredService<Dep3>(),
            sp.GetRequiredService<Dep4>(), sp.GetRequiredService<Dep5>(), sp.GetRequiredService<Dep6>());

        // Warm the scope's own scoped dependencies so every method measures creation, not first resolution.
        _ = _scope.Services.GetRequiredService<Dep6>();
        _ = Isolated();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scope.Dispose();
        _serviceScope.Dispose();
        _provider.Dispose();
    }

    [Benchmark]
    public object New() => Dependencies switch
    {
        0 => new Agent0(),
        3 => new Agent3(_d1, _d2, _d3),
        _ => new Agent6(_d1, _d2, _d3, _d4, _d5, _d6),
    };

    [Benchmark(Baseline = true)]
    public object DiTransient() => Dependencies switch
    {
        0 => _serviceScope.ServiceProvider.GetRequiredService<Agent0>(),
        3 => _serviceScope.ServiceProvider.GetRequiredService<Agent3>(),
        _ => _serviceScope.ServiceProvider.GetRequiredService<Agent6>(),
    };

    [Benchmark]
    public object ActivatorCreateInstance() => Dependencies switch
    {
        0 => ActivatorUtilities.CreateInstance<Agent0>(_serviceScope.ServiceProvider),
        3 => ActivatorUtilities.CreateInstance<Agent3>(_serviceScope.ServiceProvider),
        _ => ActivatorUtilities.CreateInstance<Agent6>(_serviceScope.ServiceProvider),
    };

    [Benchmark]
    public object Isolated() => Dependencies switch
    {
        0 => _factory0.Create(_scope),
        3 => _factory3.Create(_scope),
        _ => _factory6.Create(_scope),
    };
}
