using System.Diagnostics;
using Isolation.AgentFramework.Tests.Support;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Isolation.AgentFramework.Tests.Agents;

/// <summary>The decorator over a real ChatClientAgent: sessions bound to their scope, turns per conversation, events, spans.</summary>
public sealed class IsolatedAIAgentTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(IsolationMode.Observe)]
    [InlineData(IsolationMode.Enforce)]
    public async Task RunAsync_SessionOfAnotherUsersScope_IsCrossScopeAccess(IsolationMode mode)
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, mode);
        // Alice's run creates its session in its own flow (its scope is ambient there only).
        var (alice, aliceSession) = await Task.Run(
            async () =>
            {
                var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
                return (scope, await host.Agent.CreateSessionAsync(Ct));
            },
            Ct);
        await using var aliceScope = alice;

        await using var bob = host.Factory.CreateScope(new UserExecutionContext("bob"));
        if (mode == IsolationMode.Enforce)
        {
            var ex = await Assert.ThrowsAsync<IsolationViolationException>(() => host.Agent.RunAsync("hi", aliceSession, cancellationToken: Ct));
            Assert.Equal(ViolationKind.CrossScopeAccess, ex.Kind);
            Assert.Contains("'alice'", ex.Message, StringComparison.Ordinal);
            Assert.Contains("'bob'", ex.Message, StringComparison.Ordinal);
            Assert.Equal(0, host.Model.Calls);
        }
        else
        {
            await host.Agent.RunAsync("hi", aliceSession, cancellationToken: Ct);
            Assert.Equal(1, bob.ViolationCount);
        }

        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.CrossScopeAccess));
    }

    [Theory]
    [InlineData(IsolationMode.Observe)]
    [InlineData(IsolationMode.Enforce)]
    public async Task RunAsync_SessionKeptAfterItsScopeEnded_IsUseAfterDispose(IsolationMode mode)
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, mode);
        AgentSession kept;
        await using (host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            kept = (await host.Store.GetOrCreateSessionAsync(host.Agent, new AgentSessionStoreKey("c-1"), Ct))!;
        }

        await using var next = host.Factory.CreateScope(new UserExecutionContext("alice"));
        if (mode == IsolationMode.Enforce)
        {
            var ex = await Assert.ThrowsAsync<IsolationViolationException>(() => host.Agent.RunAsync("again", kept, cancellationToken: Ct));
            Assert.Equal(ViolationKind.UseAfterDispose, ex.Kind);
            Assert.Contains("has ended", ex.Message, StringComparison.Ordinal);
        }
        else
        {
            await host.Agent.RunAsync("again", kept, cancellationToken: Ct);
            Assert.Equal(1, next.ViolationCount);
        }

        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.UseAfterDispose));
    }

    [Fact]
    public async Task RunAsync_SessionOfAnotherLiveScopeOfTheSameUser_IsCrossScopeAccess()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Enforce);
        var (first, session) = await Task.Run(
            async () =>
            {
                var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
                return (scope, await host.Agent.CreateSessionAsync(Ct));
            },
            Ct);
        await using var firstScope = first;

        await using var second = host.Factory.CreateScope(new UserExecutionContext("alice"));
        var ex = await Assert.ThrowsAsync<IsolationViolationException>(() => host.Agent.RunAsync("hi", session, cancellationToken: Ct));

        Assert.Equal(ViolationKind.CrossScopeAccess, ex.Kind);
        Assert.Contains("another live run", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_QueuedRunCancelled_StopsWaitingAndLeavesTheConversationUsable()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Enforce);
        var firstInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        host.Model.BeforeAnswer = async _ =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                firstInside.SetResult();
                await releaseFirst.Task.WaitAsync(Bound);
            }
        };

        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        var session = await host.Agent.CreateSessionAsync(Ct);
        var first = host.Agent.RunAsync("first", session, cancellationToken: Ct);
        await firstInside.Task.WaitAsync(Bound, Ct);
        using var cancel = new CancellationTokenSource();
        var queued = host.Agent.RunAsync("queued", session, cancellationToken: cancel.Token);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        releaseFirst.SetResult();
        await first.WaitAsync(Bound, Ct);
        var third = await host.Agent.RunAsync("third", session, cancellationToken: Ct);

        Assert.Equal("answer to 'third' after 2 user messages", third.Text);
    }

    [Fact]
    public async Task RunAsync_SessionLoadedInOwnScope_NoViolation()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Enforce);

        await host.TurnAsync("alice", "c-1", "one", Ct);
        await host.TurnAsync("alice", "c-1", "two", Ct);

        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task RunAsync_OutsideScope_ThrowsInvalidOperation()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory);
        var session = await host.Agent.CreateSessionAsync(Ct);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Agent.RunAsync("hi", session, cancellationToken: Ct));

        Assert.Contains("IsolatedAIAgent.RunAsync was called outside an IsolationScope", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_TwoRunsOnOneConversationQueued_TakeTurnsAndTheEarlierLoadedSecondCannotOverwriteTheFirst()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Enforce);
        await host.TurnAsync("alice", "c-1", "zero", Ct);
        var firstInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        host.Model.BeforeAnswer = async _ =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                firstInside.SetResult();
                await releaseFirst.Task.WaitAsync(Bound);
            }
        };

        // Each run loads its own instance from the store; the gate is per conversation, not per instance.
        var first = Task.Run(() => host.TurnAsync("alice", "c-1", "first", Ct), Ct);
        await firstInside.Task.WaitAsync(Bound, Ct);
        var secondSession = Task.Run(
            async () =>
            {
                await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
                var key = new AgentSessionStoreKey("c-1");
                var session = await host.Store.GetSessionAsync(host.Agent, key, Ct);
                var run = host.Agent.RunAsync("second", session, cancellationToken: Ct);
                var queued = !run.IsCompleted && Volatile.Read(ref calls) == 1;
                releaseFirst.SetResult();
                await run;
                await first.WaitAsync(Bound, Ct);

                // It ran on the history it loaded, before the first saved: its save is refused, the first's history kept.
                await Assert.ThrowsAsync<AgentSessionConflictException>(async () => await host.Store.SaveSessionAsync(host.Agent, key, session!, Ct));
                return queued;
            },
            Ct);

        Assert.True(await secondSession.WaitAsync(Bound, Ct));
        Assert.Equal(2, Volatile.Read(ref calls));
        Assert.Equal(0, host.Monitor.TotalViolations);
        Assert.Contains("first", await host.HistoryAsync("alice", "c-1", Ct));
    }

    [Fact]
    public async Task RunAsync_SameConversationIdInAnotherStore_DoesNotWaitForItsRun()
    {
        // Two servers in one process (or two tenants' stores): the same user and conversation id, unrelated conversations.
        await using var hung = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Enforce);
        await using var other = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Enforce);
        await hung.TurnAsync("alice", "c-1", "zero", Ct);
        await other.TurnAsync("alice", "c-1", "zero", Ct);
        var hungInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hung.Model.BeforeAnswer = async _ =>
        {
            hungInside.TrySetResult();
            await release.Task.WaitAsync(Bound);
        };
        var stuck = Task.Run(() => hung.TurnAsync("alice", "c-1", "never answered", Ct), Ct);
        await hungInside.Task.WaitAsync(Bound, Ct);

        try
        {
            var answer = await other.TurnAsync("alice", "c-1", "still served", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);

            Assert.Equal("answer to 'still served' after 2 user messages", answer);
        }
        finally
        {
            release.SetResult();
            await stuck.WaitAsync(Bound, Ct);
        }
    }

    [Fact]
    public async Task RunAsync_TwoWrappersOfOneStore_RunsOnOneConversationStillTakeTurns()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Enforce);
        var secondWrapper = new OwnerCheckedAgentSessionStore(host.InnerStore);
        await host.TurnAsync("alice", "c-1", "zero", Ct);
        var firstInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        host.Model.BeforeAnswer = async _ =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                firstInside.SetResult();
                await releaseFirst.Task.WaitAsync(Bound);
            }
        };

        var first = Task.Run(() => host.TurnAsync("alice", "c-1", "first", Ct), Ct);
        await firstInside.Task.WaitAsync(Bound, Ct);
        var queued = await Task.Run(
            async () =>
            {
                await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
                var session = await secondWrapper.GetSessionAsync(host.Agent, new AgentSessionStoreKey("c-1"), Ct);
                var run = host.Agent.RunAsync("second", session, cancellationToken: Ct);
                var waiting = !run.IsCompleted && Volatile.Read(ref calls) == 1;
                releaseFirst.SetResult();
                await run.WaitAsync(Bound, Ct);
                return waiting;
            },
            Ct).WaitAsync(Bound, Ct);
        await first.WaitAsync(Bound, Ct);

        Assert.True(queued, "the run through the second wrapper did not wait for the first run's turn");
        Assert.Equal(2, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task RunAsync_TwoRunsOnOneSessionRejectInEnforce_SecondThrowsConcurrentUse()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Enforce, o => o.ConcurrentRuns = ConcurrentRunBehavior.Reject);
        var firstInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Model.BeforeAnswer = async _ =>
        {
            firstInside.TrySetResult();
            await releaseFirst.Task.WaitAsync(Bound);
        };

        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        var session = await host.Agent.CreateSessionAsync(Ct);
        var first = host.Agent.RunAsync("first", session, cancellationToken: Ct);
        await firstInside.Task.WaitAsync(Bound, Ct);

        var ex = await Assert.ThrowsAsync<IsolationViolationException>(() => host.Agent.RunAsync("second", session, cancellationToken: Ct));
        releaseFirst.SetResult();
        await first.WaitAsync(Bound, Ct);

        Assert.Equal(ViolationKind.ConcurrentUse, ex.Kind);
        Assert.Contains("ConcurrentRuns", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, host.Model.Calls);
    }

    [Fact]
    public async Task RunAsync_TwoRunsRejectInObserve_ReportsThenQueues()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Observe, o => o.ConcurrentRuns = ConcurrentRunBehavior.Reject);
        var firstInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        host.Model.BeforeAnswer = async _ =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                firstInside.SetResult();
                await releaseFirst.Task.WaitAsync(Bound);
            }
        };

        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        var session = await host.Agent.CreateSessionAsync(Ct);
        var first = host.Agent.RunAsync("first", session, cancellationToken: Ct);
        await firstInside.Task.WaitAsync(Bound, Ct);
        var second = host.Agent.RunAsync("second", session, cancellationToken: Ct);
        Assert.Equal(1, scope.ViolationCount);
        releaseFirst.SetResult();
        await Task.WhenAll(first, second).WaitAsync(Bound, Ct);

        Assert.Equal("answer to 'second' after 2 user messages", (await second).Text);
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.ConcurrentUse));
    }

    [Fact]
    public void Constructor_UndefinedConcurrentRuns_ThrowsArgumentOutOfRange()
    {
        var inner = new ChatClientAgent(new ScriptedChatClient());

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new IsolatedAIAgent(inner, new IsolatedAIAgentOptions { ConcurrentRuns = (ConcurrentRunBehavior)7 }));

        Assert.Contains("Queue or ConcurrentRunBehavior.Reject", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunStreamingAsync_Updates_ReachOnlyTheOwnersConnections()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory);
        var aliceTab1 = new RecordingSink("alice", "a-1");
        var aliceTab2 = new RecordingSink("alice", "a-2");
        var bob = new RecordingSink("bob", "b-1");
        using var r1 = host.Registry.Register(aliceTab1);
        using var r2 = host.Registry.Register(aliceTab2);
        using var r3 = host.Registry.Register(bob);

        var text = new List<string>();
        await using (host.Factory.CreateScope(new UserExecutionContext("alice", "a-1")))
        {
            var session = await host.Agent.CreateSessionAsync(Ct);
            await foreach (var update in host.Agent.RunStreamingAsync("hello there", session, cancellationToken: Ct))
            {
                text.Add(update.Text);
            }
        }

        var expected = "answer to 'hello there' after 1 user messages";
        Assert.Equal(expected, string.Concat(text));
        foreach (var tab in new[] { aliceTab1, aliceTab2 })
        {
            var updates = tab.Received.Where(e => e.Type == AgentFrameworkEventTypes.AgentUpdate).ToList();
            Assert.Equal(expected, string.Concat(updates.Select(e => ((AgentUpdatePayload)e.Payload!).Text)));
            Assert.All(tab.Received, e => Assert.Equal("alice", e.UserId));
        }

        Assert.Empty(bob.Received);
    }

    [Fact]
    public async Task RunStreamingAsync_EmitUpdatesOff_SendsNoTextEvents()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, agentOptions: o => o.EmitUpdates = false);
        var sink = new RecordingSink("alice", "a-1");
        using var registration = host.Registry.Register(sink);

        await using (host.Factory.CreateScope(new UserExecutionContext("alice", "a-1")))
        {
            var session = await host.Agent.CreateSessionAsync(Ct);
            await foreach (var _ in host.Agent.RunStreamingAsync("hello", session, cancellationToken: Ct))
            {
            }
        }

        Assert.DoesNotContain(sink.Received, e => e.Type == AgentFrameworkEventTypes.AgentUpdate);
    }

    [Fact]
    public async Task RunStreamingAsync_ToolCall_EmitsToolExecutingThenToolCompleted()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory);
        var sink = new RecordingSink("alice", "a-1");
        using var registration = host.Registry.Register(sink);

        await using (host.Factory.CreateScope(new UserExecutionContext("alice", "a-1")))
        {
            var session = await host.Agent.CreateSessionAsync(Ct);
            await foreach (var _ in host.Agent.RunStreamingAsync("tool:weather", session, cancellationToken: Ct))
            {
            }
        }

        var tools = sink.Received.Where(e => e.Type is AgentEventTypes.ToolExecuting or AgentEventTypes.ToolCompleted).ToList();
        Assert.Equal([AgentEventTypes.ToolExecuting, AgentEventTypes.ToolCompleted], tools.Select(e => e.Type));
        var executing = (ToolEventPayload)tools[0].Payload!;
        var completed = (ToolEventPayload)tools[1].Payload!;
        Assert.Equal("lookup", executing.Tool);
        Assert.Equal("lookup", completed.Tool);
        Assert.Equal(executing.CallId, completed.CallId);
    }

    [Fact]
    public async Task RunAsync_ToolCall_EmitsToolEventsWhenTheRunReturns()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory);
        var sink = new RecordingSink("alice", "a-1");
        using var registration = host.Registry.Register(sink);

        await using (host.Factory.CreateScope(new UserExecutionContext("alice", "a-1")))
        {
            var session = await host.Agent.CreateSessionAsync(Ct);
            await host.Agent.RunAsync("tool:weather", session, cancellationToken: Ct);
        }

        Assert.Equal(
            [AgentEventTypes.ToolExecuting, AgentEventTypes.ToolCompleted],
            sink.Received.Where(e => e.Type.StartsWith("tool_", StringComparison.Ordinal)).Select(e => e.Type));
    }

    [Fact]
    public async Task RunAsync_InsideOpenTelemetryAgent_EnrichesInvokeAgentSpanWithoutText()
    {
        const string Source = "Isolation.AgentFramework.Tests.Otel";
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == Source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (stopped)
                {
                    stopped.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, pipeline: b => b.UseOpenTelemetry(Source).UseIsolation());

        string runId;
        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            runId = scope.Context.RunId;
            var key = new AgentSessionStoreKey("conv-42");
            var session = await host.Store.GetOrCreateSessionAsync(host.Agent, key, Ct);
            await host.Store.SaveSessionAsync(host.Agent, key, session, Ct);
            session = await host.Store.GetSessionAsync(host.Agent, key, Ct);
            await host.Agent.RunAsync("a very private question", session, cancellationToken: Ct);
        }

        Activity span;
        lock (stopped)
        {
            var names = string.Join(", ", stopped.Select(a => a.Source.Name + ":" + a.OperationName + "/" + a.DisplayName));
            Assert.True(stopped.Count(a => a.DisplayName.StartsWith("invoke_agent", StringComparison.Ordinal)) == 1, "spans: " + names);
            span = stopped.Single(a => a.DisplayName.StartsWith("invoke_agent", StringComparison.Ordinal));
        }

        Assert.Equal("conv-42", span.GetTagItem(AgentFrameworkTelemetry.ConversationIdTag));
        Assert.Equal("support", span.GetTagItem(AgentFrameworkTelemetry.AgentNameTag));
        Assert.Equal(runId, span.GetTagItem(IsolationTelemetry.RunIdTag));
        Assert.Equal("enforce", span.GetTagItem(IsolationTelemetry.ModeTag));
        lock (stopped)
        {
            Assert.All(stopped.SelectMany(a => a.TagObjects), t => Assert.DoesNotContain("private question", t.Value?.ToString() ?? string.Empty, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task RunAsync_WithoutOpenTelemetryAgent_EnrichesTheScopeSpan()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == IsolationTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (stopped)
                {
                    stopped.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory);

        string runId;
        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            runId = scope.Context.RunId;
            var key = new AgentSessionStoreKey("conv-7");
            var session = await host.Store.GetOrCreateSessionAsync(host.Agent, key, Ct);
            await host.Store.SaveSessionAsync(host.Agent, key, session, Ct);
            await host.Agent.RunAsync("private words", session, cancellationToken: Ct);
        }

        Activity span;
        lock (stopped)
        {
            span = stopped.Single(a => a.OperationName == IsolationTelemetry.ScopeActivityName && Equals(a.GetTagItem(IsolationTelemetry.RunIdTag), runId));
        }

        Assert.Equal("conv-7", span.GetTagItem(AgentFrameworkTelemetry.ConversationIdTag));
        Assert.Equal("support", span.GetTagItem(AgentFrameworkTelemetry.AgentNameTag));
        Assert.All(span.TagObjects, t => Assert.DoesNotContain("private words", t.Value?.ToString() ?? string.Empty, StringComparison.Ordinal));
    }
}
