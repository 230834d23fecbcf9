using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// Creating one agent: plain <c>new</c> (the floor), a DI transient resolve from a DI scope (the baseline: what an
/// application without Isolation does), <c>ActivatorUtilities.CreateInstance</c> (reflection per call),
/// <c>scope.GetAgent&lt;T&gt;()</c> of a fresh agent (<c>Isolated</c>, what an application calls) and the agent factory
/// it goes through (<c>IsolatedFactory</c>), by constructor dependency count (all scoped).
/// Goal: <c>Isolated</c> at most 1.1x the DI resolve at 0, 3, 6 and 12 dependencies.
/// </summary>
public class AgentCreationBenchmark
{
    private ServiceProvider _provider = null!;
    private AsyncServiceScope _serviceScope;
    private IsolationScope _scope = null!;
    private IAgentFactory<Agent0> _factory0 = null!;
    private IAgentFactory<Agent3> _factory3 = null!;
    private IAgentFactory<Agent6> _factory6 = null!;
    private IAgentFactory<Agent12> _factory12 = null!;
    private object[] _deps = null!;

    [Params(0, 3, 6, 12)]
    public int Dependencies { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection()
            .AddIsolation(o => o.LeakDetection = LeakDetectionLevel.Disabled)
            .AddScoped<Dep1>().AddScoped<Dep2>().AddScoped<Dep3>().AddScoped<Dep4>().AddScoped<Dep5>().AddScoped<Dep6>()
            .AddScoped<Dep7>().AddScoped<Dep8>().AddScoped<Dep9>().AddScoped<Dep10>().AddScoped<Dep11>().AddScoped<Dep12>()
            .AddTransient<Agent0>().AddTransient<Agent3>().AddTransient<Agent6>().AddTransient<Agent12>()
            .AddIsolatedAgent<Agent0>().AddIsolatedAgent<Agent3>().AddIsolatedAgent<Agent6>().AddIsolatedAgent<Agent12>();
        _provider = services.BuildServiceProvider();
        _serviceScope = _provider.CreateAsyncScope();
        _scope = _provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("bench"));
        _factory0 = _provider.GetRequiredService<IAgentFactory<Agent0>>();
        _factory3 = _provider.GetRequiredService<IAgentFactory<Agent3>>();
        _factory6 = _provider.GetRequiredService<IAgentFactory<Agent6>>();
        _factory12 = _provider.GetRequiredService<IAgentFactory<Agent12>>();
        var sp = _serviceScope.ServiceProvider;
        _deps =
        [
            sp.GetRequiredService<Dep1>(), sp.GetRequiredService<Dep2>(), sp.GetRequiredService<Dep3>(), sp.GetRequiredService<Dep4>(),
            sp.GetRequiredService<Dep5>(), sp.GetRequiredService<Dep6>(), sp.GetRequiredService<Dep7>(), sp.GetRequiredService<Dep8>(),
            sp.GetRequiredService<Dep9>(), sp.GetRequiredService<Dep10>(), sp.GetRequiredService<Dep11>(), sp.GetRequiredService<Dep12>(),
        ];

        // Warm the scope's own scoped dependencies so every method measures creation, not first resolution.
        _ = _scope.Services.GetRequiredService<Agent12>();
        _ = Isolated();
        _ = IsolatedFactory();
        _ = DiTransient();
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
        3 => new Agent3((Dep1)_deps[0], (Dep2)_deps[1], (Dep3)_deps[2]),
        6 => new Agent6((Dep1)_deps[0], (Dep2)_deps[1], (Dep3)_deps[2], (Dep4)_deps[3], (Dep5)_deps[4], (Dep6)_deps[5]),
        _ => new Agent12(
            (Dep1)_deps[0], (Dep2)_deps[1], (Dep3)_deps[2], (Dep4)_deps[3], (Dep5)_deps[4], (Dep6)_deps[5],
            (Dep7)_deps[6], (Dep8)_deps[7], (Dep9)_deps[8], (Dep10)_deps[9], (Dep11)_deps[10], (Dep12)_deps[11]),
    };

    [Benchmark(Baseline = true)]
    public object DiTransient() => Dependencies switch
    {
        0 => _serviceScope.ServiceProvider.GetRequiredService<Agent0>(),
        3 => _serviceScope.ServiceProvider.GetRequiredService<Agent3>(),
        6 => _serviceScope.ServiceProvider.GetRequiredService<Agent6>(),
        _ => _serviceScope.ServiceProvider.GetRequiredService<Agent12>(),
    };

    [Benchmark]
    public object ActivatorCreateInstance() => Dependencies switch
    {
        0 => ActivatorUtilities.CreateInstance<Agent0>(_serviceScope.ServiceProvider),
        3 => ActivatorUtilities.CreateInstance<Agent3>(_serviceScope.ServiceProvider),
        6 => ActivatorUtilities.CreateInstance<Agent6>(_serviceScope.ServiceProvider),
        _ => ActivatorUtilities.CreateInstance<Agent12>(_serviceScope.ServiceProvider),
    };

    [Benchmark]
    public object Isolated() => Dependencies switch
    {
        0 => _scope.GetAgent<Agent0>(),
        3 => _scope.GetAgent<Agent3>(),
        6 => _scope.GetAgent<Agent6>(),
        _ => _scope.GetAgent<Agent12>(),
    };

    [Benchmark]
    public object IsolatedFactory() => Dependencies switch
    {
        0 => _factory0.Create(_scope),
        3 => _factory3.Create(_scope),
        6 => _factory6.Create(_scope),
        _ => _factory12.Create(_scope),
    };
}
