using System.Runtime.CompilerServices;
using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Diagnostics;

public sealed class LeakDetectionTests
{
    private static readonly List<object> Retained = new();

    private static TestHost CreateHost(LeakDetectionLevel level, int samplingInterval = 128) =>
        TestHost.Create(
            s => s.AddScoped<ScopedDependency>().AddIsolatedAgent<NotesAgent>().AddIsolatedAgent<PlainAgent>(),
            o =>
            {
                o.LeakDetection = level;
                o.LeakSamplingInterval = samplingInterval;
                o.RetainedAgentGracePeriod = TimeSpan.FromSeconds(30);
            });

    [Theory]
    [InlineData(LeakDetectionLevel.Full)]
    [InlineData(LeakDetectionLevel.Paranoid)]
    public async Task ScopeNeverDisposed_AfterGc_ReportsScopeLeak(LeakDetectionLevel level)
    {
        await using var host = CreateHost(level);
        var leaks = new List<IsolationViolation>();
        host.Monitor.LeakDetected += (_, e) =>
        {
            lock (leaks)
            {
                leaks.Add(e.Violation);
            }
        };

        await AbandonScopeAsync(host, "leaky-user");
        await CollectUntilAsync(() => { lock (leaks) { return leaks.Count > 0; } });

        IsolationViolation leak;
        lock (leaks)
        {
            leak = Assert.Single(leaks);
        }

        Assert.Equal(ViolationKind.ScopeLeak, leak.Kind);
        Assert.Equal("leaky-user", leak.Context!.UserId);
        Assert.Contains("never disposed", leak.Message, StringComparison.Ordinal);
        if (level == LeakDetectionLevel.Paranoid)
        {
            Assert.Contains(nameof(AbandonScopeAsync), leak.CreationStackTrace, StringComparison.Ordinal);
        }
        else
        {
            Assert.Null(leak.CreationStackTrace);
        }

        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Id == 1002 && r.Message.Contains("scope_leak", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScopeNeverDisposed_AfterGc_CountsAsAFinishedScopeWithAViolation()
    {
        await using var host = CreateHost(LeakDetectionLevel.Full);
        await DisposeScopeAsync(host);
        Assert.Equal(1, host.Monitor.FinishedScopes);

        await AbandonScopeAsync(host, "leaky-user");
        await CollectUntilAsync(() => host.Monitor.GetViolationCount(ViolationKind.ScopeLeak) > 0);

        // The leaked scope ended (the collector found it) with a leak: it lowers the score like any violated scope.
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.ScopeLeak));
        Assert.Equal(2, host.Monitor.FinishedScopes);
        Assert.Equal(1, host.Monitor.ScopesWithViolations);
        Assert.Equal(0.5, host.Monitor.GetScore());
    }

    [Fact]
    public async Task AgentRetained_Disabled_NeverTrackedNorReported()
    {
        await using var host = CreateHost(LeakDetectionLevel.Disabled);
        try
        {
            await using (var scope = host.CreateScope("alice"))
            {
                Retained.Add(scope.GetAgent<PlainAgent>());
            }

            Assert.Equal(0, host.Monitor.Leaks.PendingAgents);
            host.Time.Advance(TimeSpan.FromMinutes(5));
            Assert.Equal(0, host.Monitor.CheckForLeaks());
            GC.Collect();
            Assert.Equal(0, host.Monitor.CheckForLeaks());
            Assert.Equal(0, host.Monitor.GetViolationCount(ViolationKind.AgentLeak));
            Assert.Equal(1d, host.Monitor.GetScore());
        }
        finally
        {
            Retained.Clear();
        }
    }

    [Fact]
    public async Task ScopeDisposed_AfterGc_NoLeak()
    {
        await using var host = CreateHost(LeakDetectionLevel.Full);

        await DisposeScopeAsync(host);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Equal(0, host.Monitor.GetViolationCount(ViolationKind.ScopeLeak));
    }

    [Fact]
    public async Task ScopeNeverDisposed_Disabled_NoReport()
    {
        await using var host = CreateHost(LeakDetectionLevel.Disabled);

        await AbandonScopeAsync(host, "leaky-user");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Equal(0, host.Monitor.GetViolationCount(ViolationKind.ScopeLeak));
    }

    [Fact]
    public async Task AgentRetainedByStatic_AfterGraceAndGc_ReportsAgentLeak()
    {
        await using var host = CreateHost(LeakDetectionLevel.Full);
        try
        {
            await using (var scope = host.CreateScope("alice"))
            {
                Retained.Add(scope.GetAgent<PlainAgent>());
            }

            Assert.Equal(0, host.Monitor.CheckForLeaks());

            host.Time.Advance(TimeSpan.FromSeconds(31));
            Assert.Equal(0, host.Monitor.CheckForLeaks()); // past the grace period: the next full collection decides
            GC.Collect();
            var found = host.Monitor.CheckForLeaks();

            Assert.Equal(1, found);
            Assert.Equal(1, host.Monitor.ScopesWithViolations);
            Assert.Equal(0d, host.Monitor.GetScore());
            Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.AgentLeak));
            Assert.Contains(host.Logs.GetSnapshot(), r => r.Message.Contains("still reachable", StringComparison.Ordinal) && r.Message.Contains("user 'alice'", StringComparison.Ordinal));
        }
        finally
        {
            Retained.Clear();
        }
    }

    [Fact]
    public async Task AgentHeldThroughCollectionInsideGraceThenDropped_NotReported()
    {
        await using var host = CreateHost(LeakDetectionLevel.Full);
        var held = new List<PlainAgent>();
        HoldAgentOfEndedScope(host, held);

        GC.Collect(); // a full collection while the agent is still legitimately referenced (inside the grace period)
        host.Time.Advance(TimeSpan.FromSeconds(31));
        held.Clear(); // dropped; no collection has run since, so it is still in memory

        Assert.Equal(0, host.Monitor.CheckForLeaks());
        GC.Collect();
        Assert.Equal(0, host.Monitor.CheckForLeaks());
        Assert.Equal(0, host.Monitor.GetViolationCount(ViolationKind.AgentLeak));
    }

    // Outside the test method, so no temporary of its frame keeps the agent alive in a Debug build.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void HoldAgentOfEndedScope(TestHost host, List<PlainAgent> held)
    {
        using var scope = host.CreateScope("alice");
        held.Add(scope.GetAgent<PlainAgent>());
    }

    [Fact]
    public async Task AgentRetained_BeforeGracePeriod_NotReported()
    {
        await using var host = CreateHost(LeakDetectionLevel.Full);
        PlainAgent held;
        await using (var scope = host.CreateScope("alice"))
        {
            held = scope.GetAgent<PlainAgent>();
        }

        host.Time.Advance(TimeSpan.FromSeconds(5));
        GC.Collect();

        Assert.Equal(0, host.Monitor.CheckForLeaks());
        GC.KeepAlive(held);
    }

    [Fact]
    public async Task AgentReleased_AfterGraceAndGc_NotReported()
    {
        await using var host = CreateHost(LeakDetectionLevel.Full);
        await UseAgentAndEndScopeAsync(host);

        host.Time.Advance(TimeSpan.FromMinutes(5));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Equal(0, host.Monitor.CheckForLeaks());
        Assert.Equal(0, host.Monitor.Leaks.PendingAgents);
    }

    [Fact]
    public async Task Sampled_TracksOneScopeInInterval()
    {
        await using var host = CreateHost(LeakDetectionLevel.Sampled, samplingInterval: 4);
        var tracked = await Task.Run(async () =>
        {
            var count = 0;
            for (var i = 0; i < 40; i++)
            {
                await using var scope = host.CreateScope("user");
                count += scope.IsTracked ? 1 : 0;
            }

            return count;
        });

        Assert.InRange(tracked, 9, 11);
    }

    [Fact]
    public async Task Off_Mode_NeverTracked()
    {
        await using var host = TestHost.Create(options: o => { o.Mode = IsolationMode.Off; o.LeakDetection = LeakDetectionLevel.Full; });
        await using var scope = host.CreateScope();

        Assert.False(scope.IsTracked);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task AbandonScopeAsync(TestHost host, string userId)
    {
        // Created in its own async method, so the ambient value does not flow back and keep the scope alive.
        var scope = host.CreateScope(userId);
        scope.GetAgent<PlainAgent>();
        await Task.Yield();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task DisposeScopeAsync(TestHost host)
    {
        await using var scope = host.CreateScope("tidy-user");
        scope.GetAgent<PlainAgent>();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task UseAgentAndEndScopeAsync(TestHost host)
    {
        await using var scope = host.CreateScope("alice");
        scope.GetAgent<PlainAgent>().Counter++;
    }

    private static async Task CollectUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 50 && !condition(); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Yield();
        }
    }
}
