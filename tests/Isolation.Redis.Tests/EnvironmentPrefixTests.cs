using Isolation.Redis.Tests.Support;

namespace Isolation.Redis.Tests;

/// <summary>Two deployments on one Redis (aspnet/SignalR#2671): same node ids, same user ids, even the same key — never mixed.</summary>
public sealed class EnvironmentPrefixTests
{
    [Fact]
    public async Task Publish_TwoEnvironmentPrefixesOnOneRedis_NeverSeeEachOthersEvents()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var staging = RedisTestEnvironment.UniquePrefix("staging");
        var production = RedisTestEnvironment.UniquePrefix("production");
        var key = RedisTestEnvironment.NewKey();
        await using var stagingA = await TestNode.StartAsync(redis, staging, key, ct, o => o.NodeId = "node-a");
        await using var stagingB = await TestNode.StartAsync(redis, staging, key, ct, o => o.NodeId = "node-b");
        await using var productionA = await TestNode.StartAsync(redis, production, key, ct, o => o.NodeId = "node-a");
        await using var productionB = await TestNode.StartAsync(redis, production, key, ct, o => o.NodeId = "node-b");
        await using var aliceStaging = await TestClient.ConnectAsync(stagingB, "alice", "tab", ct);
        await using var aliceProduction = await TestClient.ConnectAsync(productionB, "alice", "tab", ct);
        await Presence.WaitForNodesAsync(redis, staging, "alice", 1, ct);
        await Presence.WaitForNodesAsync(redis, production, "alice", 1, ct);

        await stagingA.RunAsync("alice", "staging-run", events: 2, ct);
        await productionA.RunAsync("alice", "production-run", events: 2, ct);

        var stagingEvents = await aliceStaging.ReceiveRunAsync("staging-run", ct);
        var productionEvents = await aliceProduction.ReceiveRunAsync("production-run", ct);
        Assert.All(stagingEvents, e => Assert.Equal("staging-run", e.RunId));
        Assert.All(productionEvents, e => Assert.Equal("production-run", e.RunId));
        Assert.Equal(4, stagingEvents.Count);
        Assert.Equal(4, productionEvents.Count);
        Assert.Empty(aliceStaging.Drain());
        Assert.Empty(aliceProduction.Drain());
        Assert.Equal(4, stagingB.Received.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(4, productionB.Received.GetMeasurementSnapshot().Sum(m => m.Value));
    }
}
