using Isolation.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Isolation.Tests.Infrastructure;

/// <summary>A service provider with the isolation runtime, a fake clock and captured logs, for one test.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private TestHost(ServiceProvider provider, FakeTimeProvider time)
    {
        Provider = provider;
        Time = time;
    }

    public ServiceProvider Provider { get; }

    public FakeTimeProvider Time { get; }

    public IIsolationScopeFactory Scopes => Provider.GetRequiredService<IIsolationScopeFactory>();

    public IsolationMonitor Monitor => Provider.GetRequiredService<IsolationMonitor>();

    public IsolationMetrics Metrics => Monitor.Metrics;

    public FakeLogCollector Logs => Provider.GetFakeLogCollector();

    public static TestHost Create(Action<IServiceCollection>? configure = null, Action<IsolationOptions>? options = null)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddFakeLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddIsolation(o =>
        {
            o.LeakDetection = LeakDetectionLevel.Disabled;
            options?.Invoke(o);
        });
        configure?.Invoke(services);
        return new TestHost(services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true }), time);
    }

    public IsolationScope CreateScope(string userId = "alice", TimeSpan? deadline = null) =>
        Scopes.CreateScope(new UserExecutionContext(userId), deadline);

    public List<IsolationViolation> CaptureViolations()
    {
        var list = new List<IsolationViolation>();
        Monitor.ViolationDetected += (_, e) =>
        {
            lock (list)
            {
                list.Add(e.Violation);
            }
        };
        return list;
    }

    public ValueTask DisposeAsync() => Provider.DisposeAsync();
}
