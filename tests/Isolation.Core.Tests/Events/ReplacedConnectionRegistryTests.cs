using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Isolation.Tests.Events;

/// <summary>
/// The seam integrations (e.g. cross-node delivery) build on: an <see cref="IConnectionRegistry"/> registered in place of the
/// default is what every scope's emitter delivers through, while <see cref="ConnectionRegistry"/> stays resolvable as itself
/// for local delivery; and a transport counts its own drops through <see cref="ConnectionRegistry.ReportDropped"/>.
/// </summary>
public sealed class ReplacedConnectionRegistryTests
{
    [Fact]
    public async Task EmitAsync_RegistryReplacedInDi_DeliversThroughTheReplacementWhichReachesTheLocalRegistry()
    {
        var services = new ServiceCollection().AddIsolation();
        services.AddSingleton<DecoratingRegistry>();
        services.AddSingleton<IConnectionRegistry>(sp => sp.GetRequiredService<DecoratingRegistry>());
        await using var provider = services.BuildServiceProvider();
        var decorator = provider.GetRequiredService<DecoratingRegistry>();
        var local = provider.GetRequiredService<ConnectionRegistry>();
        var alice = new RecordingSink("alice", "a-1");
        var bob = new RecordingSink("bob", "b-1");
        using var r1 = local.Register(alice);
        using var r2 = local.Register(bob);

        await using (var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice", "a-1", "run-1")))
        {
            await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, "hm", TestContext.Current.CancellationToken);
            await scope.Events.EmitAsync(AgentEventTypes.AgentCompleted, "done", TestContext.Current.CancellationToken);
        }

        Assert.Same(decorator, provider.GetRequiredService<IConnectionRegistry>());
        Assert.Equal([1L, 2L], decorator.Published.Select(e => e.Sequence));
        Assert.All(decorator.Published, e => Assert.Equal("alice", e.UserId));
        Assert.Equal([1L, 2L], alice.Received.Select(e => e.Sequence));
        Assert.Empty(bob.Received);
    }

    [Fact]
    public async Task ReportDropped_Reason_CountsOnEventsDroppedWithThatReason()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var registry = provider.GetRequiredService<ConnectionRegistry>();
        using var dropped = new MetricCollector<long>(provider.GetRequiredService<IMeterFactory>(), IsolationTelemetry.MeterName, IsolationTelemetry.EventsDropped);
        var envelope = new EventEnvelope("alice", null, "run-1", 1, DateTimeOffset.UnixEpoch, "agent_thinking", null);

        registry.ReportDropped("backplane_unavailable", envelope);
        registry.ReportDropped("backplane_forged", null, 3);

        var measurements = dropped.GetMeasurementSnapshot();
        Assert.Equal(1, measurements.Where(m => Equals(m.Tags[IsolationTelemetry.DropReasonTag], "backplane_unavailable")).Sum(m => m.Value));
        Assert.Equal(3, measurements.Where(m => Equals(m.Tags[IsolationTelemetry.DropReasonTag], "backplane_forged")).Sum(m => m.Value));
    }

    [Theory]
    [InlineData("", 1L)]
    [InlineData(" ", 1L)]
    [InlineData("backplane_unavailable", 0L)]
    public async Task ReportDropped_InvalidArgument_ThrowsSayingWhatWasWrong(string reason, long count)
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var registry = provider.GetRequiredService<ConnectionRegistry>();

        var error = Assert.Throws<ArgumentException>(() => registry.ReportDropped(reason, null, count));

        Assert.Contains(count < 1 ? "1 or more" : "drop reason", error.Message, StringComparison.Ordinal);
    }

    private sealed class DecoratingRegistry(ConnectionRegistry local) : IConnectionRegistry
    {
        public List<EventEnvelope> Published { get; } = [];

        public int ConnectionCount => local.ConnectionCount;

        public int GetConnectionCount(string userId) => local.GetConnectionCount(userId);

        public IDisposable Register(IEventSink sink) => local.Register(sink);

        public EventDeliveryResult Publish(EventEnvelope envelope)
        {
            lock (Published)
            {
                Published.Add(envelope);
            }

            return local.Publish(envelope);
        }

        public WebSocketEventSink RegisterWebSocket(System.Net.WebSockets.WebSocket webSocket, string userId, string connectionId, CancellationToken connectionAborted = default) =>
            local.RegisterWebSocket(webSocket, userId, connectionId, connectionAborted);
    }
}
