using Isolation.Redis.Internal;
using Isolation.Redis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Redis.Tests;

/// <summary>
/// Issue 16: local delivery with Redis configured takes one lookup — the node's presence answer for a user is kept on the
/// local <see cref="ConnectionRegistry"/>'s entry of that user (a <see cref="UserStateSlot{TState}"/>) — and still learns
/// about a connection opened on another node; <see cref="IConnectionRegistry.SendToConnection"/> works through the Redis registry.
/// </summary>
public sealed class LocalDeliveryTests
{
    [Fact]
    public async Task Publish_LocalUserAfterTheFirstLookup_PresenceAnswerKeptOnTheLocalEntry()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("slot");
        await using var a = await TestNode.StartAsync(redis, prefix, RedisTestEnvironment.NewKey(), ct, o => o.PresenceCacheDuration = TimeSpan.FromSeconds(20));
        await using var aliceOnA = await TestClient.ConnectAsync(a, "alice", "tab-1", ct);
        await Presence.WaitForNodesAsync(redis, prefix, "alice", 1, ct);
        var slot = a.Services.GetRequiredService<RedisBackplane>().PresenceSlot;
        Assert.True(slot.TryGet("alice", out var before));
        Assert.Null(before); // nothing learned yet

        await a.RunAsync("alice", "run-1", events: 1, ct);
        Assert.Equal([1L, 2L, 3L], (await aliceOnA.ReceiveRunAsync("run-1", ct)).Select(e => e.Sequence));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        RedisBackplane.PresenceEntry? attached;
        while (!slot.TryGet("alice", out attached) || attached is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the presence answer was never attached to alice's entry");
            await Task.Delay(20, ct);
        }

        Assert.Empty(attached.Nodes); // alice is on this node only: later events take the single-node path
        await a.RunAsync("alice", "run-2", events: 1, ct);
        Assert.Equal([1L, 2L, 3L], (await aliceOnA.ReceiveRunAsync("run-2", ct)).Select(e => e.Sequence));
        Assert.Equal(0, a.Sent.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(0, a.DroppedCount(RedisDropReasons.NoConnection));
    }

    [Fact]
    public async Task Publish_UserConnectsOnAnotherNodeAfterALocalOnlyAnswer_LearnedAndDeliveredThere()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("learn");
        var key = RedisTestEnvironment.NewKey();
        await using var a = await TestNode.StartAsync(redis, prefix, key, ct, o => o.PresenceCacheDuration = TimeSpan.FromMilliseconds(200));
        await using var b = await TestNode.StartAsync(redis, prefix, key, ct);
        await using var aliceOnA = await TestClient.ConnectAsync(a, "alice", "tab-1", ct);
        await Presence.WaitForNodesAsync(redis, prefix, "alice", 1, ct);
        await a.RunAsync("alice", "run-0", events: 1, ct);
        await aliceOnA.ReceiveRunAsync("run-0", ct);

        // alice opens a second tab on node B; node A's answer ("only here") is attached to her entry and expires soon.
        await using var aliceOnB = await TestClient.ConnectAsync(b, "alice", "tab-2", ct);
        await Presence.WaitForNodesAsync(redis, prefix, "alice", 2, ct);

        // Runs on A until one reaches B: the first event past the answer's expiry refreshes it in the background.
        for (var run = 1; ; run++)
        {
            await a.RunAsync("alice", "run-" + run, events: 0, ct);
            Assert.Equal(2, (await aliceOnA.ReceiveRunAsync("run-" + run, ct)).Count);
            if (aliceOnB.Drain().Any(e => e.UserId == "alice"))
            {
                break;
            }

            await Task.Delay(50, ct);
        }

        await a.RunAsync("alice", "run-last", events: 1, ct);
        var onB = (await aliceOnB.ReceiveRunAsync("run-last", ct)).Where(e => e.RunId == "run-last").ToList(); // after any late ones of the loop
        Assert.Equal([1L, 2L, 3L], onB.Select(e => e.Sequence));
        Assert.All(onB, e => Assert.Equal("alice", e.UserId));
    }

    [Fact]
    public async Task SendToConnection_ThroughIConnectionRegistry_ReachesTheLocalSocketAndRefusesAnotherUsers()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("send");
        await using var a = await TestNode.StartAsync(redis, prefix, RedisTestEnvironment.NewKey(), ct);
        await using var aliceOnA = await TestClient.ConnectAsync(a, "alice", "tab-1", ct);
        await using var bobOnA = await TestClient.ConnectAsync(a, "bob", "tab-2", ct);
        var registry = a.Services.GetRequiredService<IConnectionRegistry>();
        Assert.IsType<RedisConnectionRegistry>(registry);

        var delivered = registry.SendToConnection("alice", "tab-1", "ready", "hello", runId: "r-1");
        var refused = registry.SendToConnection("alice", "tab-2", "ready", "not yours");

        Assert.Equal(new EventDeliveryResult(1, 0), delivered);
        Assert.Equal(new EventDeliveryResult(0, 1), refused);
        var ready = await aliceOnA.ReceiveAsync(ct);
        Assert.Equal(("alice", "ready", "r-1"), (ready.UserId, ready.Type, ready.RunId));
        Assert.Empty(bobOnA.Drain());
        Assert.Equal(0, a.Sent.GetMeasurementSnapshot().Sum(m => m.Value));
    }
}
