using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Isolation.Tests.Diagnostics;

public sealed class IsolationHealthCheckTests
{
    private static async Task<HealthReport> CheckAsync(TestHost host) =>
        await host.Provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    [Fact]
    public async Task Check_NoActivity_Healthy()
    {
        await using var host = TestHost.Create(s => s.AddHealthChecks().AddIsolationHealthCheck());

        var report = await CheckAsync(host);

        var entry = report.Entries[IsolationHealthChecksBuilderExtensions.HealthCheckName];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(1d, entry.Data["score"]);
    }

    [Fact]
    public async Task Check_ViolationWithinWindow_UnhealthyThenHealthyAfterWindow()
    {
        var shared = new PlainAgent();
        await using var host = TestHost.Create(
            s =>
            {
                s.AddIsolatedAgent<PlainAgent>(_ => shared);
                s.AddHealthChecks().AddIsolationHealthCheck(o => o.ViolationWindow = TimeSpan.FromSeconds(30));
            },
            o => o.Mode = IsolationMode.Observe);
        for (var i = 0; i < 2; i++)
        {
            await using var scope = host.CreateScope("user-" + i);
            scope.GetAgent<PlainAgent>();
        }

        var during = (await CheckAsync(host)).Entries["isolation"];
        host.Time.Advance(TimeSpan.FromSeconds(31));
        var after = (await CheckAsync(host)).Entries["isolation"];

        Assert.Equal(HealthStatus.Unhealthy, during.Status);
        Assert.Contains("singleton_reuse", during.Description, StringComparison.Ordinal);
        Assert.Equal(1L, during.Data["violations.singleton_reuse"]);
        Assert.Equal(HealthStatus.Healthy, after.Status);
        Assert.Equal(0.5, (double)after.Data["score"], 3);
    }

    [Fact]
    public async Task Check_AgentCreationOverBudget_Degraded()
    {
        await using var host = TestHost.Create(s =>
        {
            s.AddIsolatedAgent<SlowAgent>();
            s.AddHealthChecks().AddIsolationHealthCheck(o =>
            {
                o.AgentCreationBudget = TimeSpan.FromMilliseconds(1);
                o.MinimumCreationSamples = 5;
            });
        });
        await using (var scope = host.CreateScope())
        {
            for (var i = 0; i < 5; i++)
            {
                scope.GetAgent<SlowAgent>();
            }
        }

        var entry = (await CheckAsync(host)).Entries["isolation"];

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("over the 1 ms budget", entry.Description, StringComparison.Ordinal);
        Assert.True((double)entry.Data["agent_creation_p95_ms"] >= 2);
    }

    [Fact]
    public async Task Check_FewerSamplesThanMinimum_NotJudged()
    {
        await using var host = TestHost.Create(s =>
        {
            s.AddIsolatedAgent<SlowAgent>();
            s.AddHealthChecks().AddIsolationHealthCheck(o => o.AgentCreationBudget = TimeSpan.FromMilliseconds(1));
        });
        await using (var scope = host.CreateScope())
        {
            scope.GetAgent<SlowAgent>();
        }

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Entries["isolation"].Status);
    }

    [Fact]
    public async Task AddIsolationHealthCheck_Twice_OneRegistration()
    {
        await using var host = TestHost.Create(s => s.AddHealthChecks().AddIsolationHealthCheck().AddIsolationHealthCheck());

        var report = await CheckAsync(host);

        Assert.Single(report.Entries);
    }

    [Fact]
    public async Task AddIsolationHealthCheck_BadOptions_FailsWithMessage()
    {
        await using var host = TestHost.Create(s => s.AddHealthChecks().AddIsolationHealthCheck(o => o.MinimumCreationSamples = 0));

        var ex = Assert.Throws<OptionsValidationException>(() =>
            host.Provider.GetRequiredService<IOptionsMonitor<IsolationHealthCheckOptions>>().Get("isolation"));

        Assert.Contains("MinimumCreationSamples must be from 1 to 1024", ex.Message, StringComparison.Ordinal);
    }

    public sealed class SlowAgent : IAgent
    {
        // Simulates an expensive constructor (a model client built per request, say).
        public SlowAgent() => Thread.Sleep(2);
    }
}
