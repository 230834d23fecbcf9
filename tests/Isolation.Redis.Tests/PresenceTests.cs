using Isolation.Redis.Tests.Support;
using StackExchange.Redis;

namespace Isolation.Redis.Tests;

/// <summary>Presence records: refreshed by their node, removed on a clean stop, expired within their TTL after a crash.</summary>
public sealed class PresenceTests
{
    [Fact]
    public async Task Presence_NodeDiesWithoutCleanup_StopsBeingSentEventsWithinItsTtl()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("crash");
        var key = RedisTestEnvironment.NewKey();
        // Long enough that a busy machine's pause between the crash and A's first run does not let the record expire first
        // (then A would rightly send nothing, and the first wait below would time out).
        var ttl = TimeSpan.FromSeconds(6);
        void Fast(RedisEventDeliveryOptions o)
        {
            o.PresenceTtl = ttl;
            o.PresenceRefreshInterval = TimeSpan.FromMilliseconds(500);
            o.PresenceCacheDuration = TimeSpan.FromMilliseconds(200);
        }

        await using var a = await TestNode.StartAsync(redis, prefix, key, ct, o => { Fast(o); o.NodeId = "node-a"; });
        var c = await TestNode.StartAsync(redis, prefix, key, ct, o => { Fast(o); o.NodeId = "node-c"; });
        await using var spy = await ConnectionMultiplexer.ConnectAsync(redis);
        var toC = 0;
        var queue = await spy.GetSubscriber().SubscribeAsync(RedisChannel.Literal(Isolation.Redis.Internal.RedisNames.NodeChannelFor(prefix, "node-c")));
        queue.OnMessage(_ => Interlocked.Increment(ref toC));
        try
        {
            await using (var aliceOnC = await TestClient.ConnectAsync(c, "alice", "tab-1", ct))
            {
                await Presence.WaitForNodesAsync(redis, prefix, "alice", 1, ct);
                await c.CrashAsync();
            }

            // Right after the crash its record is still there (nothing cleaned up), so A still sends to it.
            var crashedAt = DateTime.UtcNow;
            await a.RunAsync("alice", "run-1", events: 0, ct);
            await MessageVerificationTests.WaitForAsync(() => Volatile.Read(ref toC) >= 2, ct);

            // Within the TTL (plus a bounded margin for a noisy machine) the record expires...
            var presenceKey = Isolation.Redis.Internal.RedisNames.PresenceKeyFor(prefix, "alice");
            while (await spy.GetDatabase().SortedSetLengthAsync(presenceKey, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), double.PositiveInfinity) > 0)
            {
                Assert.True(DateTime.UtcNow - crashedAt < ttl + TimeSpan.FromSeconds(2), "The crashed node's presence outlived its TTL.");
                await Task.Delay(50, ct);
            }

            Assert.True(DateTime.UtcNow - crashedAt >= ttl - TimeSpan.FromMilliseconds(500), "The presence record disappeared before its TTL: something removed it although the node crashed.");

            // ...and once A's short cache (200 ms) has expired too, A sends nothing more to the dead node: the run's events
            // are counted as undeliverable instead. Each attempt waits for one of the two outcomes (bounded).
            var stoppedAfter = 0;
            for (var attempt = 1; ; attempt++)
            {
                Assert.True(attempt <= 50, "A kept sending to the crashed node after its presence expired.");
                var sentBefore = Volatile.Read(ref toC);
                var droppedBefore = a.DroppedCount(RedisDropReasons.NoConnection);
                await a.RunAsync("alice", "run-after-" + attempt, events: 0, ct);
                await MessageVerificationTests.WaitForAsync(() => Volatile.Read(ref toC) >= sentBefore + 2 || a.DroppedCount(RedisDropReasons.NoConnection) >= droppedBefore + 2, ct);
                if (Volatile.Read(ref toC) == sentBefore)
                {
                    stoppedAfter = attempt;
                    break;
                }

                await Task.Delay(50, ct);
            }

            // Stays stopped.
            var sentToC = Volatile.Read(ref toC);
            var dropped = a.DroppedCount(RedisDropReasons.NoConnection);
            await a.RunAsync("alice", "run-last", events: 0, ct);
            await MessageVerificationTests.WaitForAsync(() => a.DroppedCount(RedisDropReasons.NoConnection) >= dropped + 2, ct);
            Assert.Equal(sentToC, Volatile.Read(ref toC));
            Assert.InRange(stoppedAfter, 1, 50);
        }
        finally
        {
            await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task Presence_NodeStopsCleanly_RemovesItsRecordsAtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("stop");
        var b = await TestNode.StartAsync(redis, prefix, RedisTestEnvironment.NewKey(), ct, o => o.NodeId = "node-b");
        await using (var aliceOnB = await TestClient.ConnectAsync(b, "alice", "tab-1", ct))
        {
            await Presence.WaitForNodesAsync(redis, prefix, "alice", 1, ct);
        }

        await b.DisposeAsync();

        await using var check = await ConnectionMultiplexer.ConnectAsync(redis);
        var members = await check.GetDatabase().SortedSetRangeByRankAsync(Isolation.Redis.Internal.RedisNames.PresenceKeyFor(prefix, "alice"));
        Assert.DoesNotContain(members, m => m == "node-b");
    }

    [Fact]
    public async Task Presence_UserIdsThatLookAlike_KeepSeparateRecordsAndEvents()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("escape");
        var key = RedisTestEnvironment.NewKey();
        await using var a = await TestNode.StartAsync(redis, prefix, key, ct);
        await using var b = await TestNode.StartAsync(redis, prefix, key, ct);
        await using var c = await TestNode.StartAsync(redis, prefix, key, ct);

        // "a:b" on B and "a%3Ab" on C: a naive key scheme would file both under one record.
        await using var colon = await TestClient.ConnectAsync(b, "a:b", "s", ct);
        await using var percent = await TestClient.ConnectAsync(c, "a%3Ab", "s", ct);
        await Presence.WaitForNodesAsync(redis, prefix, "a:b", 1, ct);
        await Presence.WaitForNodesAsync(redis, prefix, "a%3Ab", 1, ct);

        await a.RunAsync("a:b", "run-colon", events: 1, ct);
        await a.RunAsync("a%3Ab", "run-percent", events: 1, ct);

        Assert.All(await colon.ReceiveRunAsync("run-colon", ct), e => Assert.Equal("a:b", e.UserId));
        Assert.All(await percent.ReceiveRunAsync("run-percent", ct), e => Assert.Equal("a%3Ab", e.UserId));
        Assert.Equal(3, b.Received.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(3, c.Received.GetMeasurementSnapshot().Sum(m => m.Value));
    }
}
