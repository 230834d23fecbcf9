using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Events;

public sealed class ConnectionRegistryTests
{
    [Fact]
    public async Task Publish_TwoUsers_ReachesEveryConnectionOfTheOwnerAndNoOther()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var registry = provider.GetRequiredService<IConnectionRegistry>();
        var alice1 = new RecordingSink("alice", "a-1");
        var alice2 = new RecordingSink("alice", "a-2");
        var bob = new RecordingSink("bob", "b-1");
        using var r1 = registry.Register(alice1);
        using var r2 = registry.Register(alice2);
        using var r3 = registry.Register(bob);

        await using (var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice", "a-1", "run-1")))
        {
            await scope.Events.EmitAsync(AgentEventTypes.AgentStarted, null, TestContext.Current.CancellationToken);
            await scope.Events.EmitAsync(AgentEventTypes.AgentCompleted, "done", TestContext.Current.CancellationToken);
        }

        Assert.Equal(3, registry.ConnectionCount);
        Assert.Equal(2, registry.GetConnectionCount("alice"));
        Assert.Equal([1L, 2L], alice1.Received.Select(e => e.Sequence));
        Assert.Equal([1L, 2L], alice2.Received.Select(e => e.Sequence));
        Assert.Empty(bob.Received);
        Assert.All(alice1.Received, e => Assert.Equal("alice", e.UserId));
    }

    [Fact]
    public async Task Register_SameConnectionIdTwice_ThrowsNamingUserAndConnection()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var registry = provider.GetRequiredService<IConnectionRegistry>();
        using var first = registry.Register(new RecordingSink("alice", "a-1"));

        var error = Assert.Throws<ArgumentException>(() => registry.Register(new RecordingSink("alice", "a-1")));

        Assert.Contains("'alice'", error.Message, StringComparison.Ordinal);
        Assert.Contains("a-1", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, registry.ConnectionCount);
    }

    [Theory]
    [InlineData("", "c")]
    [InlineData(" ", "c")]
    [InlineData("u", "")]
    public async Task Register_EmptyIdentifier_Throws(string userId, string connectionId)
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var registry = provider.GetRequiredService<IConnectionRegistry>();

        Assert.Throws<ArgumentException>(() => registry.Register(new RecordingSink(userId, connectionId)));
        Assert.Equal(0, registry.ConnectionCount);
    }

    [Fact]
    public async Task Dispose_Registration_RemovesConnectionAndUserEntryOnce()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var registry = (ConnectionRegistry)provider.GetRequiredService<IConnectionRegistry>();
        var sink = new RecordingSink("alice", "a-1");
        var registration = registry.Register(sink);
        var other = registry.Register(new RecordingSink("alice", "a-2"));

        registration.Dispose();
        registration.Dispose();

        Assert.Equal(1, registry.GetConnectionCount("alice"));
        other.Dispose();
        Assert.Equal(0, registry.ConnectionCount);
        Assert.Equal(0, registry.GetConnectionCount("alice"));
        Assert.Equal(0, registry.UserCount);
    }

    [Fact]
    public async Task Register_ConcurrentConnectAndDisconnectOfOneUser_LeavesNoEntry()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var registry = (ConnectionRegistry)provider.GetRequiredService<IConnectionRegistry>();
        using var cts = EventTestSupport.Timeout();

        // Eight flows connect and disconnect the same user's connections: the last-connection-leaves path races with new registrations.
        await Parallel.ForAsync(0, 8, cts.Token, (worker, _) =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                using var registration = registry.Register(new RecordingSink("alice", worker + "-" + i));
                Assert.True(registry.GetConnectionCount("alice") >= 1);
            }

            return ValueTask.CompletedTask;
        });

        Assert.Equal(0, registry.ConnectionCount);
        Assert.Equal(0, registry.UserCount);
    }

    [Fact]
    public async Task DroppedCounter_Instrument_HasDocumentedNameUnitAndDescription()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        _ = provider.GetRequiredService<IConnectionRegistry>();

        using var dropped = EventTestSupport.DroppedCollector(provider);

        var instrument = Assert.IsAssignableFrom<System.Diagnostics.Metrics.Counter<long>>(dropped.Instrument);
        Assert.Equal("isolation.events.dropped", instrument.Name);
        Assert.Equal("Isolation", instrument.Meter.Name);
        Assert.Equal("{event}", instrument.Unit);
        Assert.Equal("Agent events that were not delivered to a connection, by reason.", instrument.Description);
    }

    [Fact]
    public async Task EmitAsync_UserWithoutConnection_DropsAndCountsNoConnection()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        using var dropped = EventTestSupport.DroppedCollector(provider);
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("ghost"));

        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, null, TestContext.Current.CancellationToken);

        Assert.Equal(1, dropped.Dropped("no_connection"));
    }

    [Fact]
    public async Task Publish_SinkThatChangedItsUser_RefusedAsEventLeakInEveryMode()
    {
        foreach (var mode in new[] { IsolationMode.Enforce, IsolationMode.Observe })
        {
            await using var provider = new ServiceCollection().AddIsolation(o => o.Mode = mode).BuildServiceProvider();
            var registry = provider.GetRequiredService<IConnectionRegistry>();
            var monitor = provider.GetRequiredService<IsolationMonitor>();
            using var dropped = EventTestSupport.DroppedCollector(provider);
            var reported = new List<IsolationViolation>();
            monitor.ViolationDetected += (_, e) => reported.Add(e.Violation);
            var sink = new RecordingSink("alice", "a-1");
            using var registration = registry.Register(sink);
            sink.UserId = "mallory";

            await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice", runId: "r-1"));
            await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, "secret", TestContext.Current.CancellationToken);

            Assert.Empty(sink.Received);
            var violation = Assert.Single(reported);
            Assert.Equal(ViolationKind.EventLeak, violation.Kind);
            Assert.Equal("alice", violation.Context!.UserId);
            Assert.Equal("mallory", violation.OtherContext!.UserId);
            Assert.DoesNotContain("secret", violation.Message, StringComparison.Ordinal);
            Assert.Equal(1, monitor.GetViolationCount(ViolationKind.EventLeak));
            Assert.Equal(1, dropped.Dropped("event_leak"));
            Assert.Equal(1, scope.ViolationCount);
            await scope.DisposeAsync();
            Assert.Equal(1, monitor.ScopesWithViolations);
            Assert.Equal(0d, monitor.GetScore());
        }
    }

    [Fact]
    public async Task Publish_SinkThatThrowsOrRefuses_OtherConnectionsStillReceive()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var registry = provider.GetRequiredService<IConnectionRegistry>();
        using var dropped = EventTestSupport.DroppedCollector(provider);
        var throwing = new RecordingSink("alice", "a-1") { OnWrite = _ => throw new InvalidOperationException("transport broke") };
        var refusing = new RecordingSink("alice", "a-2") { Accept = false };
        var healthy = new RecordingSink("alice", "a-3");
        using var r1 = registry.Register(throwing);
        using var r2 = registry.Register(refusing);
        using var r3 = registry.Register(healthy);
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));

        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, null, TestContext.Current.CancellationToken);

        Assert.Single(healthy.Received);
        Assert.Equal(1, dropped.Dropped("send_failed"));
        Assert.Equal(1, dropped.Dropped("sink_rejected"));
    }
}
