using Isolation.Tests.Events;
using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;

namespace Isolation.Tests.Execution;

public sealed class IsolatedRunnerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static TestHost CreateHost(Action<IsolatedRunnerOptions>? runner = null, Action<IServiceCollection>? services = null) =>
        TestHost.Create(s =>
        {
            s.AddScoped<ScopedDependency>().AddIsolatedAgent<NotesAgent>();
            if (runner is not null)
            {
                s.Configure(runner);
            }

            services?.Invoke(s);
        });

    private static IIsolatedRunner Runner(TestHost host) => host.Provider.GetRequiredService<IIsolatedRunner>();

    private static (RecordingSink Sink, IDisposable Registration) Connect(TestHost host, string userId, string connectionId = "c-1")
    {
        var sink = new RecordingSink(userId, connectionId);
        return (sink, host.Provider.GetRequiredService<IConnectionRegistry>().Register(sink));
    }

    private static string[] Types(RecordingSink sink, string runId) =>
        sink.Received.Where(e => e.RunId == runId).Select(e => e.Type).ToArray();

    [Fact]
    public async Task RunAsync_WorkCompletes_CompletedWithStartedAndOneTerminalEvent()
    {
        await using var host = CreateHost();
        var (sink, registration) = Connect(host, "alice");
        using var _ = registration;
        var context = new UserExecutionContext("alice", "c-1");

        var result = await Runner(host).RunAsync(context, async (scope, ct) =>
        {
            scope.GetAgent<NotesAgent>().Add("hello");
            await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, "triage", ct);
        }, new RunOptions { CompletedPayload = "answer" });

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.True(result.IsCompleted);
        Assert.Null(result.Exception);
        Assert.Same(context, result.Context);
        Assert.Equal(new[] { AgentEventTypes.AgentStarted, AgentEventTypes.AgentThinking, AgentEventTypes.AgentCompleted }, Types(sink, context.RunId));
        var ended = Assert.IsType<RunEndedEvent>(sink.Received.Last().Payload);
        Assert.Equal("completed", ended.Status);
        Assert.Equal("answer", ended.Result);
        Assert.Null(ended.Message);
        Assert.Equal(1, host.Monitor.FinishedScopes);
    }

    [Fact]
    public async Task RunAsync_WorkThrows_FailedWithSafeMessageAndDetailsInLog()
    {
        await using var host = CreateHost();
        var (sink, registration) = Connect(host, "alice");
        using var _ = registration;
        var context = new UserExecutionContext("alice");

        var result = await Runner(host).RunAsync(context, (_, _) => throw new InvalidOperationException("connection string 'secret' is wrong"));

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.IsType<InvalidOperationException>(result.Exception);
        Assert.Equal(AgentEventTypes.AgentFailed, Types(sink, context.RunId).Last());
        var ended = Assert.IsType<RunEndedEvent>(sink.Received.Last().Payload);
        Assert.Equal("failed", ended.Status);
        Assert.DoesNotContain("secret", ended.Message, StringComparison.Ordinal);
        Assert.Equal(new IsolatedRunnerOptions().FailureMessage, ended.Message);
        var log = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Name == "RunFailed");
        Assert.Contains("secret", log.Exception!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_AsyncWorkThrowsAfterAwait_Failed()
    {
        await using var host = CreateHost();

        var result = await Runner(host).RunAsync(new UserExecutionContext("alice"), async (_, ct) =>
        {
            await Task.Yield();
            throw new TimeoutException("model timed out");
        });

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.IsType<TimeoutException>(result.Exception);
    }

    [Fact]
    public async Task RunAsync_WorkReturnsNullTask_FailedNamingTheMistake()
    {
        await using var host = CreateHost();

        var result = await Runner(host).RunAsync(new UserExecutionContext("alice"), (_, _) => null!);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Contains("returned a null Task", result.Exception!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_WorkIgnoresDeadline_TimedOutThenAbandonedWorkCannotEmitAndIsReleasedOnReturn()
    {
        await using var host = CreateHost(o => o.DefaultDeadline = TimeSpan.FromSeconds(10));
        using var ended = new MetricCollector<double>(host.Metrics.Meter, IsolationTelemetry.ScopeDuration);
        var (sink, registration) = Connect(host, "alice");
        using var _ = registration;
        var context = new UserExecutionContext("alice");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        NotesAgent? agent = null;

        var run = Runner(host).RunAsync(context, async (scope, _) =>
        {
            agent = scope.GetAgent<NotesAgent>();
            started.SetResult();
            await release.Task; // ignores the token on purpose
            await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, "too late", CancellationToken.None);
        });
        await started.Task.WaitAsync(Bound);
        host.Time.Advance(TimeSpan.FromSeconds(10));
        var result = await run.WaitAsync(Bound);

        Assert.Equal(RunStatus.TimedOut, result.Status);
        Assert.IsAssignableFrom<OperationCanceledException>(result.Exception);
        Assert.Equal(AgentEventTypes.AgentTimeout, Types(sink, context.RunId).Last());
        Assert.Equal(0, host.Monitor.FinishedScopes);

        release.SetResult();
        await ended.WaitForMeasurementsAsync(1, Bound);

        Assert.Equal(new[] { AgentEventTypes.AgentStarted, AgentEventTypes.AgentTimeout }, Types(sink, context.RunId));
        Assert.Throws<IsolationViolationException>(() => agent!.Add("after the scope ended"));
    }

    [Fact]
    public async Task RunAsync_AbandonedWorkNeverReturns_ScopeDisposedAfterAbandonTimeout()
    {
        await using var host = CreateHost(o =>
        {
            o.DefaultDeadline = TimeSpan.FromSeconds(5);
            o.AbandonedWorkTimeout = TimeSpan.FromSeconds(30);
        });
        using var ended = new MetricCollector<double>(host.Metrics.Meter, IsolationTelemetry.ScopeDuration);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();

        var run = Runner(host).RunAsync(new UserExecutionContext("alice"), async (_, _) =>
        {
            started.SetResult();
            await never.Task;
        });
        await started.Task.WaitAsync(Bound);
        host.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(RunStatus.TimedOut, (await run.WaitAsync(Bound)).Status);

        host.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, host.Monitor.FinishedScopes);
        host.Time.Advance(TimeSpan.FromSeconds(1));
        await ended.WaitForMeasurementsAsync(1, Bound);

        Assert.Equal("timed_out", ended.LastMeasurement!.Tags[IsolationTelemetry.RunStatusTag]);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Name == "AbandonedWorkStillRunning");
        never.SetResult();
    }

    [Fact]
    public async Task RunAsync_CallerCancels_CancelledWithFailedEvent()
    {
        await using var host = CreateHost();
        var (sink, registration) = Connect(host, "alice");
        using var _ = registration;
        var context = new UserExecutionContext("alice");
        using var caller = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = Runner(host).RunAsync(context, async (_, ct) =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }, cancellationToken: caller.Token);
        await started.Task.WaitAsync(Bound);
        await caller.CancelAsync();
        var result = await run.WaitAsync(Bound);

        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.Equal(AgentEventTypes.AgentFailed, Types(sink, context.RunId).Last());
        Assert.Equal("cancelled", Assert.IsType<RunEndedEvent>(sink.Received.Last().Payload).Status);
    }

    [Fact]
    public async Task RunAsync_OverPerUserLimit_RejectedWhileOtherUserRuns()
    {
        await using var host = CreateHost(o => o.MaxConcurrentRunsPerUser = 2);
        var (sink, registration) = Connect(host, "alice");
        using var _ = registration;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var bothStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task Hold(IsolationScope scope, CancellationToken ct)
        {
            if (Interlocked.Increment(ref running) == 2)
            {
                bothStarted.SetResult();
            }

            await gate.Task;
        }

        var first = Runner(host).RunAsync(new UserExecutionContext("alice"), Hold);
        var second = Runner(host).RunAsync(new UserExecutionContext("alice"), Hold);
        await bothStarted.Task.WaitAsync(Bound);
        var rejectedContext = new UserExecutionContext("alice");
        var rejected = await Runner(host).RunAsync(rejectedContext, (_, _) => throw new InvalidOperationException("must not run"));
        var bob = await Runner(host).RunAsync(new UserExecutionContext("bob"), (_, _) => Task.CompletedTask);
        gate.SetResult();

        Assert.Equal(RunStatus.Rejected, rejected.Status);
        Assert.Equal(new[] { AgentEventTypes.AgentRejected }, Types(sink, rejectedContext.RunId));
        Assert.Contains("2 requests in progress", Assert.IsType<RunEndedEvent>(sink.Received.Single(e => e.RunId == rejectedContext.RunId).Payload).Message, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Completed, bob.Status);
        Assert.Equal(RunStatus.Completed, (await first.WaitAsync(Bound)).Status);
        Assert.Equal(RunStatus.Completed, (await second.WaitAsync(Bound)).Status);
    }

    [Fact]
    public async Task RunAsync_QueuedRunsAllowed_WaitsForASlot()
    {
        await using var host = CreateHost(o =>
        {
            o.MaxConcurrentRunsPerUser = 1;
            o.QueuedRunsPerUser = 1;
        });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = Runner(host).RunAsync(new UserExecutionContext("alice"), async (_, _) =>
        {
            firstStarted.SetResult();
            await gate.Task;
        });
        await firstStarted.Task.WaitAsync(Bound);
        var queued = Runner(host).RunAsync(new UserExecutionContext("alice"), (_, _) => Task.CompletedTask);
        Assert.False(queued.IsCompleted);
        gate.SetResult();

        Assert.Equal(RunStatus.Completed, (await first.WaitAsync(Bound)).Status);
        Assert.Equal(RunStatus.Completed, (await queued.WaitAsync(Bound)).Status);
    }

    [Fact]
    public async Task RunAsync_UserNotConnected_CompletesAndCountsDroppedEvents()
    {
        await using var host = CreateHost();
        using var dropped = new MetricCollector<long>(host.Metrics.Meter, IsolationTelemetry.EventsDropped);

        var result = await Runner(host).RunAsync(new UserExecutionContext("gone"), async (scope, ct) =>
            await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, null, ct));

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(3, dropped.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.All(dropped.GetMeasurementSnapshot(), m => Assert.Equal(EventDropReasons.NoConnection, m.Tags[IsolationTelemetry.DropReasonTag]));
    }

    [Fact]
    public async Task RunAsync_WorkSendsItsOwnTerminalEvent_NoSecondOne()
    {
        await using var host = CreateHost();
        var (sink, registration) = Connect(host, "alice");
        using var _ = registration;
        var context = new UserExecutionContext("alice");

        await Runner(host).RunAsync(context, async (scope, ct) => await scope.Events.EmitAsync(AgentEventTypes.AgentCompleted, "mine", ct));

        Assert.Equal(new[] { AgentEventTypes.AgentStarted, AgentEventTypes.AgentCompleted }, Types(sink, context.RunId));
        Assert.Equal("mine", sink.Received.Last().Payload);
    }

    [Fact]
    public async Task RunAsync_Metrics_RunsByStatusAndScopeDurationStatus()
    {
        await using var host = CreateHost();
        using var runs = new MetricCollector<long>(host.Metrics.Meter, IsolationTelemetry.Runs);
        using var durations = new MetricCollector<double>(host.Metrics.Meter, IsolationTelemetry.ScopeDuration);

        await Runner(host).RunAsync(new UserExecutionContext("alice"), (_, _) => Task.CompletedTask);
        await Runner(host).RunAsync(new UserExecutionContext("alice"), (_, _) => throw new InvalidOperationException());

        Assert.Equal(new object?[] { "completed", "failed" }, runs.GetMeasurementSnapshot().Select(m => m.Tags[IsolationTelemetry.RunStatusTag]));
        Assert.Equal(new object?[] { "completed", "failed" }, durations.GetMeasurementSnapshot().Select(m => m.Tags[IsolationTelemetry.RunStatusTag]));
        Assert.Equal("{run}", runs.Instrument!.Unit);
    }

    [Fact]
    public async Task RunAsync_NullArguments_Throw()
    {
        await using var host = CreateHost();

        await Assert.ThrowsAsync<ArgumentNullException>(() => Runner(host).RunAsync(null!, (_, _) => Task.CompletedTask));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Runner(host).RunAsync(new UserExecutionContext("a"), null!));
    }

    [Fact]
    public async Task Options_Invalid_FailWithMessages()
    {
        await using var host = CreateHost(o =>
        {
            o.MaxConcurrentRunsPerUser = 0;
            o.DefaultDeadline = TimeSpan.Zero;
            o.FailureMessage = " ";
        });

        var ex = Assert.Throws<OptionsValidationException>(() => Runner(host));

        Assert.Contains(ex.Failures, f => f.Contains("MaxConcurrentRunsPerUser is 0", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("DefaultDeadline", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("FailureMessage", StringComparison.Ordinal));
    }
}
