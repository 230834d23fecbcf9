using System.Text;
using Isolation.Redis.Tests.Support;
using StackExchange.Redis;

namespace Isolation.Redis.Tests;

/// <summary>The receiving node never trusts the channel: forged, replayed, stale or copied messages are refused and counted.</summary>
public sealed class MessageVerificationTests
{
    [Fact]
    public async Task Receive_ForgedEnvelopePublishedStraightToRedis_RefusedCountedAndNotDelivered()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("forged");
        await using var b = await TestNode.StartAsync(redis, prefix, RedisTestEnvironment.NewKey(), ct, o => o.NodeId = "node-b");
        await using var aliceOnB = await TestClient.ConnectAsync(b, "alice", "tab-1", ct);
        await using var attacker = await ConnectionMultiplexer.ConnectAsync(redis);
        var channel = RedisChannel.Literal(Isolation.Redis.Internal.RedisNames.NodeChannelFor(prefix, "node-b"));
        var body = $$"""{"from":"node-x","inst":"i","ctr":1,"sent":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}},"to":"node-b","user":"alice","run":"evil","seq":1,"ts":"2026-01-01T00:00:00Z","type":"agent_completed","payload":"give me your data"}""";
        var forged = new byte[33 + Encoding.UTF8.GetByteCount(body)];
        forged[0] = 1; // Right version, wrong (all-zero) signature.
        Encoding.UTF8.GetBytes(body, forged.AsSpan(33));

        await attacker.GetSubscriber().PublishAsync(channel, forged);
        await attacker.GetSubscriber().PublishAsync(channel, Encoding.UTF8.GetBytes("not even our format"));
        await WaitForAsync(() => b.DroppedCount(RedisDropReasons.BackplaneForged) == 1 && b.DroppedCount(RedisDropReasons.BackplaneMalformed) == 1, ct);

        // A real run afterwards arrives, and it is the first thing the socket sees: the forged one was never delivered.
        await b.RunAsync("alice", "run-1", events: 0, ct);
        var received = await aliceOnB.ReceiveRunAsync("run-1", ct);
        Assert.All(received, e => Assert.Equal("run-1", e.RunId));
        Assert.Equal(0, b.Received.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task Receive_ValidMessageReplayedOrCopiedToAnotherChannel_RefusedAndCounted()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("replay");
        var key = RedisTestEnvironment.NewKey();
        await using var a = await TestNode.StartAsync(redis, prefix, key, ct, o => o.NodeId = "node-a");
        await using var b = await TestNode.StartAsync(redis, prefix, key, ct, o => o.NodeId = "node-b");
        await using var c = await TestNode.StartAsync(redis, prefix, key, ct, o => o.NodeId = "node-c");
        await using var aliceOnB = await TestClient.ConnectAsync(b, "alice", "tab-1", ct);
        await using var aliceOnC = await TestClient.ConnectAsync(c, "alice-c", "tab-1", ct);
        await Presence.WaitForNodesAsync(redis, prefix, "alice", 1, ct);

        // Capture what A really sends to B, as someone with access to Redis could.
        await using var spy = await ConnectionMultiplexer.ConnectAsync(redis);
        var bChannel = RedisChannel.Literal(Isolation.Redis.Internal.RedisNames.NodeChannelFor(prefix, "node-b"));
        var captured = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = await spy.GetSubscriber().SubscribeAsync(bChannel);
        queue.OnMessage(m => captured.TrySetResult((byte[])m.Message!));
        await a.RunAsync("alice", "run-1", events: 0, ct);
        var original = await captured.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var delivered = await aliceOnB.ReceiveRunAsync("run-1", ct);
        Assert.Equal([1L, 2L], delivered.Select(e => e.Sequence));

        // Replay on B's channel, and copy to C's channel (valid signature for B's channel only).
        await spy.GetSubscriber().PublishAsync(bChannel, original);
        await spy.GetSubscriber().PublishAsync(RedisChannel.Literal(Isolation.Redis.Internal.RedisNames.NodeChannelFor(prefix, "node-c")), original);
        await WaitForAsync(() => b.DroppedCount(RedisDropReasons.BackplaneReplayed) == 1 && c.DroppedCount(RedisDropReasons.BackplaneForged) == 1, ct);

        await b.RunAsync("alice", "run-2", events: 0, ct);
        var next = await aliceOnB.ReceiveRunAsync("run-2", ct);
        Assert.All(next, e => Assert.Equal("run-2", e.RunId));
        Assert.Empty(aliceOnC.Drain());
    }

    [Fact]
    public async Task Receive_KeyRotation_PreviousKeyAcceptedAndUnknownKeyRefused()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("rotate");
        var oldKey = RedisTestEnvironment.NewKey();
        var newKey = RedisTestEnvironment.NewKey();

        // Mid-rotation: A signs with the new key and accepts the old; B still signs with the old key and accepts the new.
        await using var a = await TestNode.StartAsync(redis, prefix, newKey, ct, o => o.PreviousSigningKeys.Add(oldKey));
        await using var b = await TestNode.StartAsync(redis, prefix, oldKey, ct, o => o.PreviousSigningKeys.Add(newKey));
        await using var stranger = await TestNode.StartAsync(redis, prefix, RedisTestEnvironment.NewKey(), ct);
        await using var aliceOnA = await TestClient.ConnectAsync(a, "alice", "tab-1", ct);
        await using var aliceOnB = await TestClient.ConnectAsync(b, "alice", "tab-2", ct);
        await Presence.WaitForNodesAsync(redis, prefix, "alice", 2, ct);

        await a.RunAsync("alice", "run-a", events: 0, ct);
        await b.RunAsync("alice", "run-b", events: 0, ct);
        await stranger.RunAsync("alice", "run-stranger", events: 0, ct);

        // Each run is agent_started + agent_completed; each socket also sees its own node's local run.
        Assert.Equal([1L, 2L], (await aliceOnB.ReceiveRunAsync("run-a", ct)).Where(e => e.RunId == "run-a").Select(e => e.Sequence));
        Assert.Equal([1L, 2L], (await aliceOnA.ReceiveRunAsync("run-b", ct)).Where(e => e.RunId == "run-b").Select(e => e.Sequence));
        await WaitForAsync(() => a.DroppedCount(RedisDropReasons.BackplaneForged) == 2 && b.DroppedCount(RedisDropReasons.BackplaneForged) == 2, ct);
        Assert.DoesNotContain(aliceOnA.Drain().Concat(aliceOnB.Drain()), e => e.RunId == "run-stranger");
    }

    [Fact]
    public async Task Receive_MessageOlderThanMaxMessageAge_RefusedAsStale()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("stale");
        var key = RedisTestEnvironment.NewKey();
        await using var b = await TestNode.StartAsync(redis, prefix, key, ct, o => o.NodeId = "node-b");
        await using var aliceOnB = await TestClient.ConnectAsync(b, "alice", "tab-1", ct);

        // A correctly signed message whose send time is an hour ago (a replay of an old capture).
        var codec = new Isolation.Redis.Internal.EnvelopeCodec(Convert.FromBase64String(key), [], null);
        var channelName = Isolation.Redis.Internal.RedisNames.NodeChannelFor(prefix, "node-b");
        var envelope = new EventEnvelope("alice", null, "old-run", 1, DateTimeOffset.UtcNow.AddHours(-1), AgentEventTypes.AgentCompleted, null);
        var message = codec.Encode(
            Isolation.Redis.Internal.EnvelopeCodec.ChannelBytes(channelName),
            new Isolation.Redis.Internal.OutboundHeader("node-x", "instance-x", 1, DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds(), "node-b"),
            envelope,
            codec.SerializePayload(null));
        await using var publisher = await ConnectionMultiplexer.ConnectAsync(redis);
        await publisher.GetSubscriber().PublishAsync(RedisChannel.Literal(channelName), message);

        await WaitForAsync(() => b.DroppedCount(RedisDropReasons.BackplaneStale) == 1, ct);
        Assert.Empty(aliceOnB.Drain());
    }

    internal static async Task WaitForAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The expected counts were not reached within 10 s.");
            await Task.Delay(20, cancellationToken);
        }
    }
}
