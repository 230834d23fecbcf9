using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Events;

/// <summary>Issue 12 item 5: one event to one connection without a scope, owner-checked, outside the isolation score.</summary>
public sealed class SendToConnectionTests
{
    [Fact]
    public async Task SendToConnection_OwnConnection_DeliveredToThatConnectionOnly_NoScopeCounted()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        var first = new RecordingSink("alice", "c-1");
        var second = new RecordingSink("alice", "c-2");
        using var r1 = registry.Register(first);
        using var r2 = registry.Register(second);

        var result = registry.SendToConnection("alice", "c-1", "ready", new { ok = true });

        Assert.Equal(new EventDeliveryResult(1, 0), result);
        var envelope = Assert.Single(first.Received);
        Assert.Empty(second.Received);
        Assert.Equal(("alice", "c-1", "ready", 0L), (envelope.UserId, envelope.ConnectionId, envelope.Type, envelope.Sequence));
        Assert.False(string.IsNullOrEmpty(envelope.RunId));
        Assert.Equal(host.Time.GetUtcNow(), envelope.Timestamp);
        Assert.Equal(0, host.Monitor.FinishedScopes);
        Assert.Equal(1d, host.Monitor.GetScore());
    }

    [Fact]
    public async Task SendToConnection_RunIdGiven_StampedOnTheEnvelope()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        var sink = new RecordingSink("alice", "c-1");
        using var registration = registry.Register(sink);

        registry.SendToConnection("alice", "c-1", "protocol_error", null, runId: "r-7");

        Assert.Equal("r-7", Assert.Single(sink.Received).RunId);
    }

    [Fact]
    public async Task SendToConnection_ConnectionOfAnotherUser_RefusedAsEventLeak()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        using var dropped = EventTestSupport.DroppedCollector(host.Provider);
        var violations = host.CaptureViolations();
        var bobs = new RecordingSink("bob", "c-bob");
        using var registration = registry.Register(bobs);

        var result = registry.SendToConnection("alice", "c-bob", "ready", null);

        Assert.Equal(new EventDeliveryResult(0, 1), result);
        Assert.Empty(bobs.Received);
        var violation = Assert.Single(violations);
        Assert.Equal(ViolationKind.EventLeak, violation.Kind);
        Assert.Equal("alice", violation.Context!.UserId);
        Assert.Contains("belongs to another user", violation.Message, StringComparison.Ordinal);
        Assert.Equal(1, dropped.Dropped(EventDropReasons.EventLeak));
    }

    [Fact]
    public async Task SendToConnection_CustomSinkChangedItsUser_RefusedAsEventLeak()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        var sink = new RecordingSink("alice", "c-1");
        using var registration = registry.Register(sink);
        sink.UserId = "mallory";

        var result = registry.SendToConnection("alice", "c-1", "ready", null);

        Assert.Equal(new EventDeliveryResult(0, 1), result);
        Assert.Empty(sink.Received);
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.EventLeak));
    }

    [Fact]
    public async Task SendToConnection_ConnectionGone_DroppedAsNoConnection_NoViolation()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        using var dropped = EventTestSupport.DroppedCollector(host.Provider);
        var bobs = new RecordingSink("bob", "c-1");
        registry.Register(bobs).Dispose(); // registered, then gone: its id is nobody's now

        Assert.Equal(default, registry.SendToConnection("alice", "c-1", "ready", null));
        Assert.Equal(default, registry.SendToConnection("bob", "c-1", "ready", null));
        Assert.Equal(2, dropped.Dropped(EventDropReasons.NoConnection));
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task SendToConnection_SameIdForTwoUsers_EachReachesOnlyTheirOwn()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();
        var alices = new RecordingSink("alice", "c-1");
        var bobs = new RecordingSink("bob", "c-1");
        using var r1 = registry.Register(alices);
        using (registry.Register(bobs))
        {
            registry.SendToConnection("alice", "c-1", "ready", null);
        }

        // bob's c-1 left; alice's is still registered, so the id is still known for her only.
        registry.SendToConnection("alice", "c-1", "ready", null);

        Assert.Equal(2, alices.Received.Count);
        Assert.Empty(bobs.Received);
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Theory]
    [InlineData(null, "c-1", "ready", "userId")]
    [InlineData("alice", " ", "ready", "connectionId")]
    [InlineData("alice", "c-1", "", "type")]
    public async Task SendToConnection_MissingArgument_ThrowsNamingIt(string? userId, string? connectionId, string? type, string parameter)
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();

        var error = Assert.Throws<ArgumentException>(() => registry.SendToConnection(userId!, connectionId!, type!, null));

        Assert.Equal(parameter, error.ParamName);
        Assert.Contains("must not be null, empty or white space", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendToConnection_BlankRunId_Throws()
    {
        await using var host = TestHost.Create();
        var registry = host.Provider.GetRequiredService<ConnectionRegistry>();

        var error = Assert.Throws<ArgumentException>(() => registry.SendToConnection("alice", "c-1", "ready", null, runId: " "));

        Assert.Equal("runId", error.ParamName);
    }
}
