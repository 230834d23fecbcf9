using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Events;

/// <summary>
/// Issue 16: the seam that lets a registry decorating <see cref="ConnectionRegistry"/> keep per-user state on the local
/// registry's entries (<see cref="UserStateSlot{TState}"/>) and deliver with <see cref="ConnectionRegistry.TryPublish{TState}"/>
/// in one lookup; and <see cref="IConnectionRegistry.SendToConnection"/> through the abstraction.
/// </summary>
public sealed class UserStateSlotTests
{
    [Fact]
    public async Task TryPublish_UserWithConnections_DeliversAndReadsTheStateInTheSameCall()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        var slot = registry.CreateUserStateSlot<Marker>();
        var first = new RecordingSink("alice", "c-1");
        var second = new RecordingSink("alice", "c-2");
        var bobs = new RecordingSink("bob", "c-3");
        using var r1 = registry.Register(first);
        using var r2 = registry.Register(second);
        using var r3 = registry.Register(bobs);
        var marker = new Marker("alice's");
        Assert.True(slot.TrySet("alice", marker));

        var published = registry.TryPublish(Envelope("alice"), slot, out var result, out var state);

        Assert.True(published);
        Assert.Equal(new EventDeliveryResult(2, 0), result);
        Assert.Same(marker, state);
        Assert.Single(first.Received);
        Assert.Single(second.Received);
        Assert.Empty(bobs.Received);
        Assert.True(registry.TryPublish(Envelope("bob"), slot, out _, out var bobsState));
        Assert.Null(bobsState);
    }

    [Fact]
    public async Task TryPublish_UserWithoutConnection_FalseAndNothingCounted()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        var slot = registry.CreateUserStateSlot<Marker>();
        using var dropped = EventTestSupport.DroppedCollector(host.Provider);

        var published = registry.TryPublish(Envelope("alice"), slot, out var result, out var state);

        Assert.False(published);
        Assert.Equal(default, result);
        Assert.Null(state);
        Assert.Equal(0, dropped.Dropped(EventDropReasons.NoConnection));
        Assert.Equal(default, registry.Publish(Envelope("alice")));
        Assert.Equal(1, dropped.Dropped(EventDropReasons.NoConnection)); // Publish still counts it
    }

    [Fact]
    public async Task TrySet_StateLivesAsLongAsTheUsersEntry_GoneAfterTheLastConnectionLeaves()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        var slot = registry.CreateUserStateSlot<Marker>();

        Assert.False(slot.TrySet("alice", new Marker("before any connection")));
        Assert.False(slot.TryGet("alice", out var none));
        Assert.Null(none);

        var first = registry.Register(new RecordingSink("alice", "c-1"));
        var marker = new Marker("while connected");
        Assert.True(slot.TrySet("alice", marker));
        using (registry.Register(new RecordingSink("alice", "c-2")))
        {
            Assert.True(slot.TryGet("alice", out var kept));
            Assert.Same(marker, kept); // another connection of the same user keeps the entry, and the state
        }

        first.Dispose();
        Assert.False(slot.TryGet("alice", out _));
        using var again = registry.Register(new RecordingSink("alice", "c-3"));
        Assert.True(slot.TryGet("alice", out var fresh));
        Assert.Null(fresh);
    }

    [Fact]
    public async Task CreateUserStateSlot_TwoSlots_EachKeepsItsOwnState()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        var one = registry.CreateUserStateSlot<Marker>();
        var two = registry.CreateUserStateSlot<string>();
        using var registration = registry.Register(new RecordingSink("alice", "c-1"));

        one.TrySet("alice", new Marker("one"));
        two.TrySet("alice", "two");
        one.TrySet("alice", null);

        Assert.True(registry.TryPublish(Envelope("alice"), one, out _, out var first));
        Assert.True(registry.TryPublish(Envelope("alice"), two, out _, out var second));
        Assert.Null(first);
        Assert.Equal("two", second);
    }

    [Fact]
    public async Task TryPublish_SlotOfAnotherRegistry_ThrowsSayingWhich()
    {
        await using var host = TestHost.Create();
        await using var other = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        var foreign = other.Provider.GetRequiredService<ConnectionRegistry>().CreateUserStateSlot<Marker>();

        var error = Assert.Throws<ArgumentException>(() => registry.TryPublish(Envelope("alice"), foreign, out _, out _));

        Assert.Equal("slot", error.ParamName);
        Assert.Contains("another ConnectionRegistry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateUserStateSlot_MoreThanSixteen_ThrowsSayingHowToUseIt()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        for (var i = 0; i < 16; i++)
        {
            registry.CreateUserStateSlot<Marker>();
        }

        var error = Assert.Throws<InvalidOperationException>(registry.CreateUserStateSlot<Marker>);

        Assert.Contains("Create a slot once per decorating registry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryPublish_CustomSinkChangedItsUser_RefusedAsEventLeakAsByPublish()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        var slot = registry.CreateUserStateSlot<Marker>();
        var sink = new RecordingSink("alice", "c-1");
        using var registration = registry.Register(sink);
        sink.UserId = "mallory";

        Assert.True(registry.TryPublish(Envelope("alice"), slot, out var result, out _));

        Assert.Equal(new EventDeliveryResult(0, 1), result);
        Assert.Empty(sink.Received);
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.EventLeak));
    }

    [Fact]
    public async Task SendToConnection_ThroughTheInterface_ReachesTheLocalConnection()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<IConnectionRegistry>();
        var sink = new RecordingSink("alice", "c-1");
        var bobs = new RecordingSink("bob", "c-2");
        using var r1 = registry.Register(sink);
        using var r2 = registry.Register(bobs);

        Assert.Equal(new EventDeliveryResult(1, 0), registry.SendToConnection("alice", "c-1", "ready", null));
        Assert.Equal(new EventDeliveryResult(0, 1), registry.SendToConnection("alice", "c-2", "ready", null));

        Assert.Equal("ready", Assert.Single(sink.Received).Type);
        Assert.Empty(bobs.Received);
    }

    [Fact]
    public void SendToConnection_RegistryThatDoesNotImplementIt_NotSupportedSayingWhatToDo()
    {
        IConnectionRegistry registry = new MinimalRegistry();

        var error = Assert.Throws<NotSupportedException>(() => registry.SendToConnection("alice", "c-1", "ready", null));

        Assert.Contains(typeof(MinimalRegistry).FullName!, error.Message, StringComparison.Ordinal);
        Assert.Contains("call SendToConnection on the local ConnectionRegistry", error.Message, StringComparison.Ordinal);
    }

    private static EventEnvelope Envelope(string userId) =>
        new(userId, null, "run-1", 1, DateTimeOffset.UnixEpoch, AgentEventTypes.AgentThinking, null);

    private sealed record Marker(string Name);

    /// <summary>A registry written before SendToConnection joined the interface.</summary>
    private sealed class MinimalRegistry : IConnectionRegistry
    {
        public int ConnectionCount => 0;

        public int GetConnectionCount(string userId) => 0;

        public IDisposable Register(IEventSink sink) => throw new NotSupportedException();

        public EventDeliveryResult Publish(EventEnvelope envelope) => default;

        public WebSocketEventSink RegisterWebSocket(System.Net.WebSockets.WebSocket webSocket, string userId, string connectionId, CancellationToken connectionAborted = default) =>
            throw new NotSupportedException();
    }
}
