using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Isolation.Tests.Events;

public sealed class ScopeEventEmitterTests
{
    [Fact]
    public async Task EmitAsync_InScope_StampsUserConnectionRunSequenceAndTime()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        await using var provider = new ServiceCollection().AddSingleton<TimeProvider>(time).AddIsolation().BuildServiceProvider();
        var sink = new RecordingSink("alice", "a-1");
        using var registration = provider.GetRequiredService<IConnectionRegistry>().Register(sink);
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice", "a-1", "run-7"));

        await scope.Events.EmitAsync(AgentEventTypes.AgentStarted, null, TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(2));
        await scope.Events.EmitAsync(AgentEventTypes.ToolExecuting, "search", TestContext.Current.CancellationToken);

        Assert.Same(scope.Events, scope.Events);
        var events = sink.Received;
        Assert.Equal(2, events.Count);
        Assert.All(events, e =>
        {
            Assert.Equal("alice", e.UserId);
            Assert.Equal("a-1", e.ConnectionId);
            Assert.Equal("run-7", e.RunId);
        });
        Assert.Equal([1L, 2L], events.Select(e => e.Sequence));
        Assert.Equal(time.Start, events[0].Timestamp);
        Assert.Equal(time.Start.AddSeconds(2), events[1].Timestamp);
        Assert.Equal(AgentEventTypes.ToolExecuting, events[1].Type);
        Assert.Equal("search", events[1].Payload);
    }

    [Fact]
    public async Task EmitAsync_AfterTerminalEvent_DroppedAndCountedAsRunEnded()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        using var dropped = EventTestSupport.DroppedCollector(provider);
        var sink = new RecordingSink("alice", "a-1");
        using var registration = provider.GetRequiredService<IConnectionRegistry>().Register(sink);
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));

        await scope.Events.EmitAsync(AgentEventTypes.AgentCompleted, null, TestContext.Current.CancellationToken);
        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, null, TestContext.Current.CancellationToken);
        await scope.Events.EmitAsync(AgentEventTypes.AgentFailed, null, TestContext.Current.CancellationToken);

        Assert.Equal([AgentEventTypes.AgentCompleted], sink.Received.Select(e => e.Type));
        Assert.Equal(2, dropped.Dropped("run_ended"));
        Assert.True(scope.EventEmitter.HasEnded);
        Assert.False(scope.EventEmitter.TryEnd(AgentEventTypes.AgentFailed, null));
    }

    [Fact]
    public async Task TryEnd_OpenRun_EmitsOneTerminalEventThenSeals()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        using var dropped = EventTestSupport.DroppedCollector(provider);
        var sink = new RecordingSink("alice", "a-1");
        using var registration = provider.GetRequiredService<IConnectionRegistry>().Register(sink);
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));
        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, null, TestContext.Current.CancellationToken);

        Assert.True(scope.EventEmitter.TryEnd(AgentEventTypes.AgentTimeout, null));
        Assert.False(scope.EventEmitter.TryEnd(AgentEventTypes.AgentFailed, null));
        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, null, TestContext.Current.CancellationToken);

        Assert.Equal([AgentEventTypes.AgentThinking, AgentEventTypes.AgentTimeout], sink.Received.Select(e => e.Type));
        Assert.Equal(2, dropped.Dropped("run_ended"));
        Assert.Throws<ArgumentException>(() => scope.EventEmitter.TryEnd(AgentEventTypes.AgentThinking, null));
    }

    [Fact]
    public async Task CloseEventsToWork_AbortedRun_WorkCannotEmitTheRunnersTerminalEventStillGoesOutOnce()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        using var dropped = EventTestSupport.DroppedCollector(provider);
        var sink = new RecordingSink("alice", "a-1");
        using var registration = provider.GetRequiredService<IConnectionRegistry>().Register(sink);
        var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));
        var events = scope.Events;

        scope.CloseEventsToWork();
        await events.EmitAsync(AgentEventTypes.AgentThinking, null, TestContext.Current.CancellationToken);
        await events.EmitAsync(AgentEventTypes.AgentCompleted, null, TestContext.Current.CancellationToken);
        Assert.True(scope.EventEmitter.TryEnd(AgentEventTypes.AgentTimeout, null));
        Assert.False(scope.EventEmitter.TryEnd(AgentEventTypes.AgentFailed, null));
        await scope.DisposeAsync();
        await events.EmitAsync(AgentEventTypes.AgentThinking, null, TestContext.Current.CancellationToken);

        Assert.Equal([AgentEventTypes.AgentTimeout], sink.Received.Select(e => e.Type));
        Assert.Equal(4, dropped.Dropped("run_ended"));
    }

    [Fact]
    public async Task EmitAsync_AfterScopeDisposed_DroppedAndCounted()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        using var dropped = EventTestSupport.DroppedCollector(provider);
        var sink = new RecordingSink("alice", "a-1");
        using var registration = provider.GetRequiredService<IConnectionRegistry>().Register(sink);
        var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));
        var events = scope.Events;
        await scope.DisposeAsync();

        await events.EmitAsync(AgentEventTypes.AgentThinking, null, TestContext.Current.CancellationToken);

        Assert.Empty(sink.Received);
        Assert.Equal(1, dropped.Dropped("run_ended"));
    }

    [Fact]
    public async Task Events_FirstUsedAfterScopeDisposed_ThrowsObjectDisposed()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));
        await scope.DisposeAsync();

        var error = Assert.Throws<ObjectDisposedException>(() => scope.Events);
        Assert.Contains("event emitter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmitAsync_CancelledToken_ReturnsCancelledAndSendsNothing()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var sink = new RecordingSink("alice", "a-1");
        using var registration = provider.GetRequiredService<IConnectionRegistry>().Register(sink);
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, null, cancelled.Token));

        Assert.Empty(sink.Received);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public async Task EmitAsync_MissingType_Throws(string? type)
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await scope.Events.EmitAsync(type!, null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task EmitAsync_ConcurrentFlowsOfOneRun_QueueOrderMatchesSequence()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var sink = new RecordingSink("alice", "a-1");
        using var registration = provider.GetRequiredService<IConnectionRegistry>().Register(sink);
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));
        using var cts = EventTestSupport.Timeout();

        await Parallel.ForAsync(0, 4, cts.Token, async (_, ct) =>
        {
            for (var i = 0; i < 500; i++)
            {
                await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, null, ct);
            }
        });

        var sequences = sink.Received.Select(e => e.Sequence).ToList();
        Assert.Equal(Enumerable.Range(1, 2_000).Select(i => (long)i), sequences);
    }

    [Theory]
    [InlineData("agent_completed", true)]
    [InlineData("agent_failed", true)]
    [InlineData("agent_timeout", true)]
    [InlineData("agent_rejected", true)]
    [InlineData("agent_started", false)]
    [InlineData("agent_thinking", false)]
    [InlineData("tool_executing", false)]
    [InlineData("tool_completed", false)]
    [InlineData("Agent_Completed", false)]
    [InlineData(null, false)]
    public void IsTerminal_KnownTypes_OnlyTheFourEndings(string? type, bool terminal) =>
        Assert.Equal(terminal, AgentEventTypes.IsTerminal(type));

    [Fact]
    public async Task EmitAsync_ToRegisteredSink_AllocatesOnlyTheEnvelope()
    {
        await using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var registry = provider.GetRequiredService<IConnectionRegistry>();
        var sink = new CountingSink("alice", "a-1");
        using var registration = registry.Register(sink);
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice", "a-1"));
        var events = scope.Events;
        const int Warmup = 10_000;
        const int Count = 200_000;
        for (var i = 0; i < Warmup; i++)
        {
            await events.EmitAsync(AgentEventTypes.AgentThinking, null, TestContext.Current.CancellationToken);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Count; i++)
        {
            await events.EmitAsync(AgentEventTypes.AgentThinking, null, TestContext.Current.CancellationToken);
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        var bytesPerEmit = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / Count;
        EventTestSupport.Report($"emit -> custom sink: {elapsed.TotalNanoseconds / Count:F0} ns/emit, {bytesPerEmit:F1} B/emit over {Count} emits");

        Assert.Equal(Warmup + Count, sink.Count);

        // The envelope is the only allocation on the path (lookup, lock, stamping and the sink call allocate nothing).
        Assert.InRange(bytesPerEmit, 1, 128);
    }

    private sealed class CountingSink(string userId, string connectionId) : IEventSink
    {
        private long _count;

        public string UserId { get; } = userId;

        public string ConnectionId { get; } = connectionId;

        public long Count => Interlocked.Read(ref _count);

        public bool TryWrite(EventEnvelope envelope)
        {
            Interlocked.Increment(ref _count);
            return true;
        }
    }
}
