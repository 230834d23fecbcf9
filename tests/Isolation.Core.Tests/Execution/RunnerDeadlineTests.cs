using Isolation.Tests.Events;
using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Execution;

/// <summary>The runner keeps each run's deadline on a timer it reuses: every run's deadline counts from its own start.</summary>
public sealed class RunnerDeadlineTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RunAsync_AfterEarlierRuns_NextRunsDeadlineCountsFromItsOwnStart()
    {
        await using var host = TestHost.Create();
        var runner = host.Provider.GetRequiredService<IIsolatedRunner>();
        var deadline = new RunOptions { Deadline = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < 3; i++)
        {
            var done = await runner.RunAsync(new UserExecutionContext("alice"), (_, _) => Task.CompletedTask, deadline);
            Assert.Equal(RunStatus.Completed, done.Status);
        }

        host.Time.Advance(TimeSpan.FromSeconds(5));
        IsolationScope? scope = null;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = runner.RunAsync(new UserExecutionContext("alice"), (s, _) =>
        {
            scope = s;
            return release.Task;
        }, deadline);

        // Past the deadlines of the earlier runs, not of this one.
        host.Time.Advance(TimeSpan.FromSeconds(6));
        Assert.False(run.IsCompleted);
        Assert.False(scope!.Aborted.IsCancellationRequested);

        host.Time.Advance(TimeSpan.FromSeconds(4));
        var result = await run.WaitAsync(Bound);
        Assert.Equal(RunStatus.TimedOut, result.Status);
        Assert.True(scope.DeadlineExceeded);
        release.SetResult();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_WorkEmitsFromInsideItsAbort_DroppedAndTheTerminalEventIsTheLastTheUserSees(bool callerCancels)
    {
        await using var host = TestHost.Create();
        var runner = host.Provider.GetRequiredService<IIsolatedRunner>();
        var registry = host.Provider.GetRequiredService<IConnectionRegistry>();
        using var dropped = EventTestSupport.DroppedCollector(host.Provider);
        var sink = new RecordingSink("alice", "a-1");
        using var registration = registry.Register(sink);
        using var caller = new CancellationTokenSource();
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = runner.RunAsync(new UserExecutionContext("alice", "a-1"), async (scope, ct) =>
        {
            await Task.Yield();

            // Registered after the runner began waiting, so it runs first when the token is cancelled: the work speaks
            // after its abort, before the runner could react to it.
            ct.Register(() => scope.Events.EmitAsync(AgentEventTypes.AgentThinking, "after the abort").AsTask().GetAwaiter().GetResult());
            waiting.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }, new RunOptions { Deadline = TimeSpan.FromSeconds(10) }, caller.Token);

        await waiting.Task.WaitAsync(Bound);
        if (callerCancels)
        {
            await caller.CancelAsync();
        }
        else
        {
            host.Time.Advance(TimeSpan.FromSeconds(10));
        }

        var result = await run.WaitAsync(Bound);
        Assert.Equal(callerCancels ? RunStatus.Cancelled : RunStatus.TimedOut, result.Status);
        Assert.Equal(
            [AgentEventTypes.AgentStarted, callerCancels ? AgentEventTypes.AgentFailed : AgentEventTypes.AgentTimeout],
            sink.Received.Select(e => e.Type));
        Assert.Equal(1, dropped.Dropped(EventDropReasons.RunEnded));
    }

    [Fact]
    public async Task RunAsync_CompletedBeforeItsDeadline_ScopeNeverSeesTheDeadline()
    {
        await using var host = TestHost.Create();
        var runner = host.Provider.GetRequiredService<IIsolatedRunner>();
        IsolationScope? scope = null;

        var result = await runner.RunAsync(new UserExecutionContext("alice"), async (s, ct) =>
        {
            scope = s;
            await Task.Yield();
        }, new RunOptions { Deadline = TimeSpan.FromSeconds(1) });
        host.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.False(scope!.DeadlineExceeded);
    }
}
