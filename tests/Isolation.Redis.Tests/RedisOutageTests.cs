using Isolation.Redis.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Isolation.Redis.Tests;

/// <summary>
/// Redis really goes away (its process is killed) and comes back: local delivery keeps working, remote events are dropped
/// and counted, every run still ends with its terminal event where it can be delivered, the health check says Degraded,
/// and delivery resumes by itself. Uses a redis-server of its own, never the shared one.
/// </summary>
public sealed class RedisOutageTests
{
    [Fact]
    public async Task Publish_RedisKilledMidRunAndRestarted_DropsCountedTerminalEventLocalAndDeliveryResumes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OwnRedisServer.StartAsync(ct);
        var prefix = RedisTestEnvironment.UniquePrefix("outage");
        var key = RedisTestEnvironment.NewKey();
        void Fast(RedisEventDeliveryOptions o)
        {
            o.PresenceTtl = TimeSpan.FromSeconds(4);
            o.PresenceRefreshInterval = TimeSpan.FromMilliseconds(500);
            o.PresenceCacheDuration = TimeSpan.FromMilliseconds(200);
        }

        await using var a = await TestNode.StartAsync(server.ConnectionString, prefix, key, ct, Fast);
        await using var b = await TestNode.StartAsync(server.ConnectionString, prefix, key, ct, Fast);
        await using var aliceOnA = await TestClient.ConnectAsync(a, "alice", "tab-1", ct);
        await using var aliceOnB = await TestClient.ConnectAsync(b, "alice", "tab-2", ct);
        await Presence.WaitForNodesAsync(server.ConnectionString, prefix, "alice", 2, ct);
        Assert.Equal(HealthStatus.Healthy, await a.HealthAsync(ct));

        await a.RunAsync("alice", "before", events: 1, ct);
        Assert.Equal(3, (await aliceOnB.ReceiveRunAsync("before", ct)).Count);

        // Mid-run: after the first thinking event reached B, Redis is killed; the run goes on.
        var during = await a.RunAsync("alice", "during", events: 4, ct, between: async i =>
        {
            if (i == 1)
            {
                await aliceOnB.ReceiveAsync(ct); // agent_started
                await aliceOnB.ReceiveAsync(ct); // thinking #1
                await server.KillAsync();
                await MessageVerificationTests.WaitForAsync(() => !a.Registry.IsBackplaneAvailable, ct);
            }
        });

        Assert.Equal(RunStatus.Completed, during.Status);
        var local = await aliceOnA.ReceiveRunAsync("during", ct);
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], local.Where(e => e.RunId == "during").Select(e => e.Sequence));
        Assert.Equal(AgentEventTypes.AgentCompleted, local[^1].Type);
        Assert.True(a.DroppedCount(RedisDropReasons.BackplaneUnavailable) >= 4, $"Expected the 4 remote events after the kill counted as backplane_unavailable; got {a.DroppedCount(RedisDropReasons.BackplaneUnavailable)}.");
        Assert.Equal(HealthStatus.Degraded, await a.HealthAsync(ct));
        Assert.Equal(HealthStatus.Degraded, await b.HealthAsync(ct));

        // A connection registered while Redis is down: the registration does not wait for Redis, and its presence record
        // is written when Redis is back.
        using var carolOnB = b.Registry.Register(new RecordingSink("carol", "tab-1"));

        // Redis comes back: both nodes reconnect and rewrite their presence by themselves.
        await server.StartAgainAsync(ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(a.Registry.IsBackplaneAvailable && b.Registry.IsBackplaneAvailable))
        {
            Assert.True(DateTime.UtcNow < deadline, "The nodes did not reconnect within 30 s of Redis returning.");
            await Task.Delay(50, ct);
        }

        await Presence.WaitForNodesAsync(server.ConnectionString, prefix, "alice", 2, ct);
        await Presence.WaitForNodesAsync(server.ConnectionString, prefix, "carol", 1, ct);
        Assert.Equal(HealthStatus.Healthy, await a.HealthAsync(ct));

        await a.RunAsync("alice", "after", events: 1, ct);
        var afterOnB = await aliceOnB.ReceiveRunAsync("after", ct);

        // B saw the start of "during" and then a gap (its sequence stops); "after" arrives whole and in order.
        Assert.DoesNotContain(afterOnB, e => e.RunId == "during" && e.Sequence > 2);
        Assert.Equal([1L, 2L, 3L], afterOnB.Where(e => e.RunId == "after").Select(e => e.Sequence));
    }

    [Fact]
    public async Task Start_RedisUnreachable_StartsLocalDeliveryWorksRemoteDropsCountedAndDegraded()
    {
        var ct = TestContext.Current.CancellationToken;
        var unreachable = $"127.0.0.1:{RedisTestEnvironment.FreePort()},connectTimeout=300";
        await using var a = await TestNode.StartAsync(unreachable, RedisTestEnvironment.UniquePrefix("down"), RedisTestEnvironment.NewKey(), ct);
        await using var aliceOnA = await TestClient.ConnectAsync(a, "alice", "tab-1", ct);

        var result = await a.RunAsync("alice", "local", events: 1, ct);
        await a.RunAsync("bob", "remote", events: 1, ct);

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal([1L, 2L, 3L], (await aliceOnA.ReceiveRunAsync("local", ct)).Select(e => e.Sequence));
        Assert.False(a.Registry.IsBackplaneAvailable);
        // Bob's 3 events, and alice's 3 too: they reached her socket here, but with Redis down nobody can tell whether she
        // also had sockets on other nodes, so they count as possibly lost there.
        Assert.Equal(6, a.DroppedCount(RedisDropReasons.BackplaneUnavailable));
        Assert.Equal(HealthStatus.Degraded, await a.HealthAsync(ct));
    }

    private sealed class RecordingSink(string userId, string connectionId) : IEventSink
    {
        public string UserId { get; } = userId;

        public string ConnectionId { get; } = connectionId;

        public bool TryWrite(EventEnvelope envelope) => string.Equals(envelope.UserId, UserId, StringComparison.Ordinal);
    }
}
