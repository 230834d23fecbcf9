using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// 100 or 1,000 requests at once, each of a different user, each creating a scope and an agent, yielding once while the
/// scope is open (so the scopes overlap on both cores) and disposing it. The baseline uses plain DI scopes and transient
/// agents; <c>IsolationScopes</c> uses isolation scopes with Isolation's defaults (Enforce, sampled leak detection).
/// The ratio of the means is the inverse of the throughput ratio. <see cref="ScopedDependency"/>: the agent takes no
/// constructor parameters (an isolation scope then needs no DI scope), or one scoped service (both sides resolve it
/// from their DI scope). Goal: isolated at least 0.8x the throughput at 100 and 1,000, either way.
/// <c>ServiceScopesMadeCurrent</c> is the floor of any scope that flows with the work: the baseline's request with its DI
/// scope made current in an <see cref="AsyncLocal{T}"/> while it is open (what <c>IsolationScope.Current</c> needs at the least).
/// </summary>
public class ConcurrencyBenchmark
{
    private static readonly AsyncLocal<object?> Ambient = new();

    private ServiceProvider _provider = null!;
    private IServiceScopeFactory _serviceScopes = null!;
    private IIsolationScopeFactory _scopes = null!;
    private UserExecutionContext[] _contexts = null!;
    private Task[] _tasks = null!;

    [Params(100, 1_000)]
    public int Concurrency { get; set; }

    [Params(false, true)]
    public bool ScopedDependency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddIsolation()
            .AddScoped<Dep1>()
            .AddTransient<FreshAgent>()
            .AddIsolatedAgent<FreshAgent>()
            .AddTransient<Agent1>()
            .AddIsolatedAgent<Agent1>()
            .BuildServiceProvider();
        _serviceScopes = _provider.GetRequiredService<IServiceScopeFactory>();
        _scopes = _provider.GetRequiredService<IIsolationScopeFactory>();
        _contexts = new UserExecutionContext[Concurrency];
        for (var i = 0; i < Concurrency; i++)
        {
            _contexts[i] = new UserExecutionContext("user-" + i, "c-" + i);
        }

        _tasks = new Task[Concurrency];
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true)]
    public Task ServiceScopes()
    {
        for (var i = 0; i < _tasks.Length; i++)
        {
            _tasks[i] = UnguardedRequestAsync();
        }

        return Task.WhenAll(_tasks);
    }

    [Benchmark]
    public Task ServiceScopesMadeCurrent()
    {
        for (var i = 0; i < _tasks.Length; i++)
        {
            _tasks[i] = CurrentRequestAsync();
        }

        return Task.WhenAll(_tasks);
    }

    [Benchmark]
    public Task IsolationScopes()
    {
        for (var i = 0; i < _tasks.Length; i++)
        {
            _tasks[i] = IsolatedRequestAsync(_contexts[i]);
        }

        return Task.WhenAll(_tasks);
    }

    private async Task UnguardedRequestAsync()
    {
        // Leave the caller's thread so the requests run on the thread pool, on both cores.
        await Task.Yield();
        await using var scope = _serviceScopes.CreateAsyncScope();
        if (ScopedDependency)
        {
            scope.ServiceProvider.GetRequiredService<Agent1>().Add("hello");
        }
        else
        {
            scope.ServiceProvider.GetRequiredService<FreshAgent>().Add("hello");
        }

        await Task.Yield();
    }

    private async Task CurrentRequestAsync()
    {
        await Task.Yield();
        await using var scope = _serviceScopes.CreateAsyncScope();
        Ambient.Value = scope;
        if (ScopedDependency)
        {
            scope.ServiceProvider.GetRequiredService<Agent1>().Add("hello");
        }
        else
        {
            scope.ServiceProvider.GetRequiredService<FreshAgent>().Add("hello");
        }

        await Task.Yield();
        Ambient.Value = null;
    }

    private async Task IsolatedRequestAsync(UserExecutionContext context)
    {
        await Task.Yield();
        await using var scope = _scopes.CreateScope(context);
        if (ScopedDependency)
        {
            scope.GetAgent<Agent1>().Add("hello");
        }
        else
        {
            scope.GetAgent<FreshAgent>().Add("hello");
        }

        await Task.Yield();
    }
}
