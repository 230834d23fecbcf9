using Isolation.Redis.Tests.Support;

namespace Isolation.Redis.Tests;

/// <summary>Several real nodes (Kestrel hosts on loopback) sharing one real Redis: a run on one node reaches its user's sockets on the others.</summary>
public sealed class CrossNodeDeliveryTests
{
    [Fact]
    public async Task Publish_RunOnNodeA_ReachesTheUsersSocketsOnBAndCAndNobodyElses()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("abc");
        var key = RedisTestEnvironment.NewKey();
        await using var a = await TestNode.StartAsync(redis, prefix, key, ct, o => o.NodeId = "node-a");
        await using var b = await TestNode.StartAsync(redis, prefix, key, ct, o => o.NodeId = "node-b");
        await using var c = await TestNode.StartAsync(redis, prefix, key, ct, o => o.NodeId = "node-c");
        await using var aliceOnB = await TestClient.ConnectAsync(b, "alice", "tab-1", ct);
        await using var aliceOnC = await TestClient.ConnectAsync(c, "alice", "tab-2", ct);
        await using var bobOnB = await TestClient.ConnectAsync(b, "bob", "tab-1", ct);
        await using var bobOnA = await TestClient.ConnectAsync(a, "bob", "tab-2", ct);
        await Presence.WaitForNodesAsync(redis, prefix, "alice", 2, ct);

        var result = await a.RunAsync("alice", "run-1", events: 3, ct);
        var onB = await aliceOnB.ReceiveRunAsync("run-1", ct);
        var onC = await aliceOnC.ReceiveRunAsync("run-1", ct);

        Assert.Equal(RunStatus.Completed, result.Status);
        foreach (var received in new[] { onB, onC })
        {
            Assert.All(received, e => Assert.Equal("alice", e.UserId));
            Assert.Equal([1L, 2L, 3L, 4L, 5L], received.Select(e => e.Sequence));
            Assert.Equal(AgentEventTypes.AgentStarted, received[0].Type);
            Assert.Equal(AgentEventTypes.AgentCompleted, received[^1].Type);
            Assert.Equal(2, received[2].Payload.GetInt32());
        }

        // Bob's sockets (on a node alice uses and on the sending node) got nothing of alice's run.
        var bobs = await b.RunAsync("bob", "run-bob", events: 0, ct);
        Assert.Equal(RunStatus.Completed, bobs.Status);
        var bobOnBEvents = await bobOnB.ReceiveRunAsync("run-bob", ct);
        var bobOnAEvents = await bobOnA.ReceiveRunAsync("run-bob", ct);
        Assert.All(bobOnBEvents.Concat(bobOnAEvents), e => Assert.Equal("bob", e.UserId));
        Assert.All(bobOnBEvents.Concat(bobOnAEvents), e => Assert.Equal("run-bob", e.RunId));
        Assert.Empty(aliceOnB.Drain());
        Assert.Empty(aliceOnC.Drain());
    }

    [Fact]
    public async Task Publish_OnlyTheNodesHoldingTheUser_ReceiveAMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("route");
        var key = RedisTestEnvironment.NewKey();
        await using var a = await TestNode.StartAsync(redis, prefix, key, ct);
        await using var b = await TestNode.StartAsync(redis, prefix, key, ct);
        await using var c = await TestNode.StartAsync(redis, prefix, key, ct);
        await using var aliceOnB = await TestClient.ConnectAsync(b, "alice", "tab-1", ct);
        await Presence.WaitForNodesAsync(redis, prefix, "alice", 1, ct);

        await a.RunAsync("alice", "run-1", events: 2, ct);
        var received = await aliceOnB.ReceiveRunAsync("run-1", ct);

        Assert.Equal(4, received.Count);
        Assert.Equal(4, a.Sent.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(4, b.Received.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(0, c.Received.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task Publish_LocalConnection_DeliveredLocallyAndNotSentToRedis()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("local");
        var key = RedisTestEnvironment.NewKey();
        await using var a = await TestNode.StartAsync(redis, prefix, key, ct);
        await using var aliceOnA = await TestClient.ConnectAsync(a, "alice", "tab-1", ct);
        await Presence.WaitForNodesAsync(redis, prefix, "alice", 1, ct);

        await a.RunAsync("alice", "run-1", events: 2, ct);
        var received = await aliceOnA.ReceiveRunAsync("run-1", ct);

        Assert.Equal([1L, 2L, 3L, 4L], received.Select(e => e.Sequence));
        Assert.Equal(0, a.Sent.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(0, a.DroppedCount(RedisDropReasons.NoConnection));
    }

    [Fact]
    public async Task Publish_UserWithNoConnectionOnAnyNode_CountedAsNoConnection()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("nobody");
        await using var a = await TestNode.StartAsync(redis, prefix, RedisTestEnvironment.NewKey(), ct);

        await a.RunAsync("ghost", "run-1", events: 1, ct);

        // Sent in the background: poll the counter (bounded).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (a.DroppedCount(RedisDropReasons.NoConnection) < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, ct);
        }

        Assert.Equal(3, a.DroppedCount(RedisDropReasons.NoConnection));
    }
}
