using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;

namespace Isolation.Tests.Events;

/// <summary><see cref="EventDeliveryOptions.MaxConnectionsPerUser"/>: one user cannot hold any number of connections.</summary>
public sealed class ConnectionLimitTests
{
    [Fact]
    public void MaxConnectionsPerUser_Default_Is16()
        => Assert.Equal(16, new EventDeliveryOptions().MaxConnectionsPerUser);

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(10_001)]
    public async Task Registry_MaxConnectionsPerUserOutOfRange_FailsNamingTheValue(int limit)
    {
        await using var provider = new ServiceCollection().AddIsolation().Configure<EventDeliveryOptions>(o => o.MaxConnectionsPerUser = limit).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IConnectionRegistry>());

        Assert.Contains($"MaxConnectionsPerUser (Isolation:Events:MaxConnectionsPerUser) is {limit}; it must be from 1 to 10000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_BeyondLimit_ThrowsCountsAndLeavesOtherUsersAlone()
    {
        await using var provider = new ServiceCollection().AddIsolation().Configure<EventDeliveryOptions>(o => o.MaxConnectionsPerUser = 2).BuildServiceProvider();
        var registry = provider.GetRequiredService<IConnectionRegistry>();
        using var refused = RefusedCollector(provider);
        var first = registry.Register(new RecordingSink("alice", "a-1"));
        using var second = registry.Register(new RecordingSink("alice", "a-2"));

        var error = Assert.Throws<InvalidOperationException>(() => registry.Register(new RecordingSink("alice", "a-3")));
        using var bob = registry.Register(new RecordingSink("bob", "b-1"));

        Assert.Equal("Too many connections: at most 2 per user. Close another connection first.", error.Message);
        Assert.Equal(2, registry.GetConnectionCount("alice"));
        Assert.Equal(1, registry.GetConnectionCount("bob"));
        var measurement = Assert.Single(refused.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal("connection_limit", measurement.Tags[IsolationTelemetry.DropReasonTag]);

        // A connection that leaves makes room again.
        first.Dispose();
        using var third = registry.Register(new RecordingSink("alice", "a-3"));
        Assert.Equal(2, registry.GetConnectionCount("alice"));
    }

    [Fact]
    public async Task RegisterWebSocket_BeyondLimit_ClosesWithPolicyViolationAndReason()
    {
        using var cts = EventTestSupport.Timeout();
        await using var server = await EventTestServer.StartAsync(cts.Token, o => o.MaxConnectionsPerUser = 1);
        using var refused = RefusedCollector(server.Services);
        await using var accepted = await EventTestClient.ConnectAsync(server, "alice", "a-1", cts.Token);
        using var extra = new ClientWebSocket();

        await extra.ConnectAsync(new Uri(server.BaseUri, "/events?user=alice&conn=a-2"), cts.Token);
        var result = await extra.ReceiveAsync(new byte[256], cts.Token);

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
        Assert.Equal("Too many connections: at most 1 per user. Close another connection first.", result.CloseStatusDescription);
        Assert.Equal(1, server.Registry.GetConnectionCount("alice"));
        Assert.Equal(1, refused.GetMeasurementSnapshot().Sum(m => m.Value));

        // The accepted connection still gets its events; the refused one never joined the registry.
        var refusedSink = await server.WaitForConnectionAsync("alice", "a-2", cts.Token);
        await using (var scope = server.Scopes.CreateScope(new UserExecutionContext("alice", "a-1", "run-1")))
        {
            await scope.Events.EmitAsync(AgentEventTypes.AgentStarted, null, cts.Token);
        }

        Assert.Equal(AgentEventTypes.AgentStarted, (await accepted.ReceiveAsync(cts.Token)).Type);
        Assert.Equal(0, refusedSink.SentCount);
        await extra.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
    }

    private static MetricCollector<long> RefusedCollector(IServiceProvider services) =>
        new(services.GetRequiredService<IMeterFactory>(), IsolationTelemetry.MeterName, IsolationTelemetry.ConnectionsRefused);
}
