using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;
using Isolation.Diagnostics;
using Isolation.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Isolation.Execution;

/// <summary>
/// The default <see cref="IIsolatedRunner"/>. A run: acquire the user's concurrency slot (or reject), create the scope,
/// start the work off the caller's thread, wait for the work or the scope's abort (deadline or caller cancellation),
/// end with exactly one terminal event, and release. Work that outlives its deadline is abandoned: its emitter is sealed
/// and its scope is disposed when it returns (or after <see cref="IsolatedRunnerOptions.AbandonedWorkTimeout"/>).
/// </summary>
internal sealed class IsolatedRunner : IIsolatedRunner, IAsyncDisposable
{
    private readonly IsolationScopeFactory _scopes;
    private readonly IsolatedRunnerOptions _options;
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly RunMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public IsolatedRunner(IsolationScopeFactory scopes, IOptions<IsolatedRunnerOptions> options)
    {
        _scopes = scopes;
        _options = options.Value;
        _time = scopes.TimeProvider;
        _logger = scopes.Monitor.Logger;
        _metrics = new RunMetrics(scopes.Monitor.Metrics.Meter);
        var permits = _options.MaxConcurrentRunsPerUser;
        var queue = _options.QueuedRunsPerUser;

        // One concurrency limiter per user; the partitioned limiter drops limiters that stay idle, so users who left cost nothing.
        _limiter = PartitionedRateLimiter.Create<string, string>(userId => RateLimitPartition.GetConcurrencyLimiter(
            userId,
            _ => new ConcurrencyLimiterOptions { PermitLimit = permits, QueueLimit = queue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst }));
    }

    public async Task<RunResult> RunAsync(
        UserExecutionContext context,
        Func<IsolationScope, CancellationToken, Task> work,
        RunOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        Guard.NotNull(context);
        Guard.NotNull(work);
        var start = Stopwatch.GetTimestamp();
        var deadline = options?.Deadline ?? _options.DefaultDeadline;

        using var lease = _options.QueuedRunsPerUser == 0
            ? _limiter.AttemptAcquire(context.UserId)
            : await AcquireQueuedAsync(context.UserId, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            return await RejectAsync(context, start).ConfigureAwait(false);
        }

        var scope = _scopes.CreateScope(context, deadline);
        Started(scope);
        using var callerCancellation = cancellationToken.UnsafeRegister(static s => ((IsolationScope)s!).Abort(), scope);
        var workTask = Start(work, scope);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (scope.Aborted.UnsafeRegister(static s => ((TaskCompletionSource)s!).TrySetResult(), aborted))
        {
            await Task.WhenAny(workTask, aborted.Task).ConfigureAwait(false);
        }

        RunStatus status;
        Exception? exception;
        var abandoned = !workTask.IsCompleted;
        if (abandoned)
        {
            status = scope.DeadlineExceeded ? RunStatus.TimedOut : RunStatus.Cancelled;
            exception = new OperationCanceledException(AbortMessage(status, context, deadline), scope.Aborted);
        }
        else
        {
            (status, exception) = Classify(workTask, scope);
        }

        var duration = Stopwatch.GetElapsedTime(start);
        End(scope, status, exception, duration, options?.CompletedPayload);
        var result = new RunResult(context, status, duration, exception, scope.ViolationCount);
        if (abandoned)
        {
            _ = DisposeWhenReturnedAsync(workTask, scope);
        }
        else
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }

        return result;
    }

    public ValueTask DisposeAsync() => _limiter.DisposeAsync();

    private static Task Start(Func<IsolationScope, CancellationToken, Task> work, IsolationScope scope)
    {
        // Started on the thread pool so that work blocking synchronously cannot hold the runner past the deadline.
        return Task.Run(() => work(scope, scope.Aborted) ?? throw new InvalidOperationException(
            "The work passed to IIsolatedRunner.RunAsync returned a null Task. Return a Task (e.g. make the lambda async)."));
    }

    private static (RunStatus Status, Exception? Exception) Classify(Task workTask, IsolationScope scope)
    {
        if (workTask.IsCompletedSuccessfully)
        {
            return (RunStatus.Completed, null);
        }

        var exception = workTask.IsFaulted
            ? (workTask.Exception!.InnerExceptions.Count == 1 ? workTask.Exception.InnerException! : workTask.Exception)
            : new TaskCanceledException(workTask);

        // A cancellation caused by the scope's own abort is a timeout or a cancellation, not a failure of the work.
        if (exception is OperationCanceledException && scope.Aborted.IsCancellationRequested)
        {
            return (scope.DeadlineExceeded ? RunStatus.TimedOut : RunStatus.Cancelled, exception);
        }

        return (RunStatus.Failed, exception);
    }

    private static string AbortMessage(RunStatus status, UserExecutionContext context, TimeSpan deadline) =>
        status == RunStatus.TimedOut
            ? string.Format(CultureInfo.InvariantCulture, "The run of {0} passed its {1:0.###} s deadline; the runner stopped waiting and abandoned the work.", context, deadline.TotalSeconds)
            : string.Format(CultureInfo.InvariantCulture, "The run of {0} was cancelled by its caller; the runner stopped waiting and abandoned the work.", context);

    private static string StatusTag(RunStatus status) => status switch
    {
        RunStatus.Completed => ScopeStatus.Completed,
        RunStatus.Failed => ScopeStatus.Failed,
        RunStatus.TimedOut => ScopeStatus.TimedOut,
        RunStatus.Cancelled => ScopeStatus.Cancelled,
        _ => ScopeStatus.Rejected,
    };

    private static string TerminalType(RunStatus status) => status switch
    {
        RunStatus.Completed => AgentEventTypes.AgentCompleted,
        RunStatus.TimedOut => AgentEventTypes.AgentTimeout,
        RunStatus.Rejected => AgentEventTypes.AgentRejected,
        _ => AgentEventTypes.AgentFailed,
    };

    private async ValueTask<RateLimitLease> AcquireQueuedAsync(string userId, CancellationToken cancellationToken)
    {
        try
        {
            return await _limiter.AcquireAsync(userId, 1, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Cancelled while queued: the run never started, which the user sees as a rejection.
            return FailedLease.Instance;
        }
    }

    private async Task<RunResult> RejectAsync(UserExecutionContext context, long start)
    {
        var scope = _scopes.CreateScope(context);
        var duration = Stopwatch.GetElapsedTime(start);
        var message = string.Format(
            CultureInfo.InvariantCulture,
            "You already have {0} requests in progress. Wait for one to finish and try again.",
            _options.MaxConcurrentRunsPerUser);
        End(scope, RunStatus.Rejected, null, duration, null, message);
        await scope.DisposeAsync().ConfigureAwait(false);
        return new RunResult(context, RunStatus.Rejected, duration, null, 0);
    }

    private void Started(IsolationScope scope)
    {
        try
        {
            scope.EventEmitter.EmitNow(AgentEventTypes.AgentStarted, null);
        }
#pragma warning disable CA1031 // A failing event must not keep the run from starting; delivery problems are counted by the emitter.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.TerminalEventFailed(_logger, ex, scope.Context.ToString());
        }
    }

    private void End(IsolationScope scope, RunStatus status, Exception? exception, TimeSpan duration, object? completedPayload, string? message = null)
    {
        var tag = StatusTag(status);
        scope.SetStatus(tag);
        _metrics.RunEnded(tag);
        if (status == RunStatus.Failed)
        {
            Log.RunFailed(_logger, exception, scope.Context.ToString());
            message ??= _options.FailureMessage;
        }
        else if (status is RunStatus.TimedOut or RunStatus.Cancelled)
        {
            Log.RunAborted(_logger, tag, scope.Context.ToString(), duration.TotalMilliseconds);
            message ??= status == RunStatus.TimedOut
                ? "The assistant took too long and was stopped. Please try again."
                : "The request was cancelled.";
        }

        try
        {
            // Exactly one terminal event: if the work already sent one itself, this is a no-op; either way the emitter is sealed.
            scope.EventEmitter.TryEnd(TerminalType(status), new RunEndedEvent(tag, message, duration.TotalMilliseconds, completedPayload));
        }
#pragma warning disable CA1031 // Ending a run must not throw into the caller; delivery problems are counted by the emitter.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.TerminalEventFailed(_logger, ex, scope.Context.ToString());
        }
    }

    private async Task DisposeWhenReturnedAsync(Task workTask, IsolationScope scope)
    {
        try
        {
            var limit = Task.Delay(_options.AbandonedWorkTimeout, _time);
            if (await Task.WhenAny(workTask, limit).ConfigureAwait(false) != workTask)
            {
                Log.AbandonedWorkStillRunning(_logger, scope.Context.ToString(), _options.AbandonedWorkTimeout.TotalSeconds);
            }
            else if (workTask.IsFaulted && workTask.Exception!.InnerException is not OperationCanceledException)
            {
                Log.AbandonedWorkFailed(_logger, workTask.Exception.InnerException!, scope.Context.ToString());
            }
        }
        finally
        {
            _ = workTask.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A lease that was not acquired, for a run cancelled while it waited in the user's queue.</summary>
    private sealed class FailedLease : RateLimitLease
    {
        public static readonly FailedLease Instance = new();

        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => Array.Empty<string>();

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
