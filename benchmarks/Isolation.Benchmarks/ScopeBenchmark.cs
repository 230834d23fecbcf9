using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// One scope created and disposed: a raw DI scope (the baseline) against an isolation scope, per mode and leak level.
/// <c>ServiceScopeMadeCurrent</c> is the floor of any scope that flows with the work: a DI scope made current in an
/// <see cref="AsyncLocal{T}"/> and made not current again (what <c>IsolationScope.Current</c> needs at the least).
/// </summary>
public class ScopeBenchmark
{
    private static readonly AsyncLocal<object?> Ambient = new();

    private ServiceProvider _provider = null!;
    private IServiceScopeFactory _serviceScopes = null!;
    private IIsolationScopeFactory _scopes = null!;
    private UserExecutionContext _context = null!;

    [Params(IsolationMode.Off, IsolationMode.Enforce)]
    public IsolationMode Mode { get; set; }

    [Params(LeakDetectionLevel.Disabled, LeakDetectionLevel.Sampled, LeakDetectionLevel.Full, LeakDetectionLevel.Paranoid)]
    public LeakDetectionLevel Leaks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection().AddIsolation(o =>
        {
            o.Mode = Mode;
            o.LeakDetection = Leaks;
        }).BuildServiceProvider();
        _serviceScopes = _provider.GetRequiredService<IServiceScopeFactory>();
        _scopes = _provider.GetRequiredService<IIsolationScopeFactory>();
        _context = new UserExecutionContext("bench");
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true)]
    public void ServiceScope()
    {
        using var scope = _serviceScopes.CreateScope();
    }

    [Benchmark]
    public void ServiceScopeMadeCurrent()
    {
        using var scope = _serviceScopes.CreateScope();
        Ambient.Value = scope;
        Ambient.Value = null;
    }

    [Benchmark]
    public void IsolationScope()
    {
        using var scope = _scopes.CreateScope(_context);
    }
}
