using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Tasks.Sources;
using Isolation.Diagnostics;
using Isolation.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Isolation.Execution;

/// <summary>
/// The default <see cref="IIsolatedRunner"/>. A run: acquire the user's concurrency slot (or reject), create the scope,
/// start the work (on the caller's thread, or on the thread pool with <see cref="IsolatedRunnerOptions.StartOnThreadPool"/>),
/// wait for the work or the scope's abort (deadline or caller cancellation),
/// end with exactly one terminal event, and release. Work that outlives its deadline is abandoned: its emitter is sealed
/// and its scope is disposed when it returns (or after <see cref="IsolatedRunnerOptions.AbandonedWorkTimeout"/>).
/// </summary>
internal sealed class IsolatedRunner : IIsolatedRunner
{
    private readonly IsolationScopeFactory _scopes;
    private readonly IConnectionRegistry _registry;
    private readonly IsolatedRunnerOptions _options;
    private readonly UserRunLimiter _limiter;
    private readonly RunMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<RunDeadline> _deadlines = new();
    private readonly ConcurrentQueue<RunWatch> _watches = new();
    private int _abandoned;

    public IsolatedRunner(IsolationScopeFactory scopes, IConnectionRegistry registry, IOptions<IsolatedRunnerOptions> options)
    {
        _scopes = scopes;
        _registry = registry;
        _options = options.Value;
        _time = scopes.TimeProvider;
        _logger = scopes.Monitor.Logger;
        _metrics = new RunMetrics(scopes.Monitor.Metrics.Meter, () => Volatile.Read(ref _abandoned));
        _limiter = new UserRunLimiter(_options.MaxConcurrentRunsPerUser, _options.QueuedRunsPerUser);
    }

    /// <summary>Gets how many runs are abandoned now (their work still runs after the runner stopped waiting).</summary>
    internal int AbandonedRuns => Volatile.Read(ref _abandoned);

    /// <summary>Gets how many users hold or wait for a slot now.</summary>
    internal int ActiveUsers => _limiter.UserCount;

    public async Task<RunResult> RunAsync(
        UserExecutionContext context,
        Func<IsolationScope, CancellationToken, Task> work,
        RunOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        Guard.NotNull(context);
        Guard.NotNull(work);
        var deadline = options?.Deadline ?? _options.DefaultDeadline;
        if (deadline <= TimeSpan.Zero || deadline > IsolationOptions.MaxDeadline)
        {
            ThrowInvalidDeadline(deadline, nameof(options));
        }

        var start = Stopwatch.GetTimestamp();
        if (Volatile.Read(ref _abandoned) >= _options.MaxAbandonedRuns)
        {
            return EndWithoutScope(context, RunStatus.Rejected, start, exception: null, string.Format(
                CultureInfo.InvariantCulture,
                "The server is still finishing {0} earlier requests that did not stop in time, which is its limit. Please try again in a moment.",
                _options.MaxAbandonedRuns));
        }

        UserRunLimiter.UserSlots? slot;
        if (_options.QueuedRunsPerUser == 0)
        {
            slot = _limiter.TryAcquire(context.UserId);
        }
        else
        {
            try
            {
                slot = await _limiter.AcquireAsync(context.UserId, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex)
            {
                // Cancelled while it waited for a slot: the run never started.
                return EndWithoutScope(context, RunStatus.Cancelled, start, ex, "The request was cancelled before it started.");
            }
        }

        if (slot is null)
        {
            return EndWithoutScope(context, RunStatus.Rejected, start, exception: null, string.Format(
                CultureInfo.InvariantCulture,
                "You already have {0} requests in progress. Wait for one to finish and try again.",
                _options.MaxConcurrentRunsPerUser));
        }

        var releaseSlot = true;
        try
        {
            IsolationScope scope;
            try
            {
                // The runner keeps the deadline on a reusable timer (below), so the scope makes none of its own.
                scope = _scopes.CreateScope(context, deadline, ownTimer: false);
            }
#pragma warning disable CA1031 // A failing mode provider (or anything else the scope needs) ends this run, not the caller.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.RunFailed(_logger, ex, context.ToString());
                return EndWithoutScope(context, RunStatus.Failed, start, ex, _options.FailureMessage);
            }

            var runDeadline = RunDeadline.Start(_deadlines, _time, scope, deadline);
            Task workTask;
            bool abortedFirst;
            try
            {
                Started(scope);
                using (cancellationToken.UnsafeRegister(static s => AbortByCaller((IsolationScope)s!), scope))
                {
                    var inline = !(options?.StartOnThreadPool ?? _options.StartOnThreadPool);
                    workTask = inline ? StartInline(work, scope) : StartOnThreadPool(work, scope);
                    if (inline && workTask.IsCompleted)
                    {
                        // Ended within its synchronous part, on this thread: no waiting, nothing to allocate. An abort that fired
                        // meanwhile (the deadline passed while the work blocked this thread) came first.
                        abortedFirst = scope.Aborted.IsCancellationRequested;
                    }
                    else
                    {
                        abortedFirst = await WaitAsync(workTask, scope).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                // The outcome is decided: from here the deadline no longer matters to this run.
                runDeadline.Stop(_deadlines);
            }

            // What happened first decides, as seen when the abort fired: work that returned after its deadline passed timed
            // out, even when both are done by the time this line runs on a busy machine.
            RunStatus status;
            Exception? exception;
            var abandoned = !workTask.IsCompleted;
            if (abortedFirst)
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
                // The user's slot stays taken until the work returns (or is given up): hung work is bounded by the limit.
                releaseSlot = false;
                Interlocked.Increment(ref _abandoned);
                _ = DisposeWhenReturnedAsync(workTask, scope, slot);
            }
            else
            {
                await scope.DisposeAsync().ConfigureAwait(false);
            }

            return result;
        }
        finally
        {
            if (releaseSlot)
            {
                _limiter.Release(slot);
            }
        }
    }

    /// <summary>The caller's cancellation: like the deadline, the work's later events are dropped before its token is cancelled.</summary>
    private static void AbortByCaller(IsolationScope scope)
    {
        if (!scope.IsDisposed)
        {
            scope.CloseEventsToWork();
            scope.Abort();
        }
    }

    /// <summary>Waits for the work or the scope's abort, whichever comes first; true when the abort did.</summary>
    private async ValueTask<bool> WaitAsync(Task workTask, IsolationScope scope)
    {
        if (!_watches.TryDequeue(out var watch))
        {
            watch = new RunWatch();
        }

        var abortedFirst = await watch.Start(workTask, scope.Aborted).ConfigureAwait(false);
        if (watch.TryFinish())
        {
            _watches.Enqueue(watch);
        }

        return abortedFirst;
    }

    /// <summary>
    /// Calls the work on the caller's thread: it runs until its first await that does not complete at once, then the
    /// runner waits for it or the abort. A synchronous exception, or a null task, becomes the faulted task of the run.
    /// </summary>
    private static Task StartInline(Func<IsolationScope, CancellationToken, Task> work, IsolationScope scope)
    {
        try
        {
            return work(scope, scope.Aborted) ?? Task.FromException(NullTask());
        }
#pragma warning disable CA1031 // The work's exception is the run's outcome (Failed, or TimedOut/Cancelled when caused by the abort).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Task.FromException(ex);
        }
    }

    private static Task StartOnThreadPool(Func<IsolationScope, CancellationToken, Task> work, IsolationScope scope)
    {
        // On the thread pool, so that work blocking synchronously cannot hold the runner past the deadline.
        return Task.Run(() => work(scope, scope.Aborted) ?? throw NullTask());
    }

    private static InvalidOperationException NullTask() => new(
        "The work passed to IIsolatedRunner.RunAsync returned a null Task. Return a Task (e.g. make the lambda async).");

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

    private async Task DisposeWhenReturnedAsync(Task workTask, IsolationScope scope, UserRunLimiter.UserSlots slot)
    {
        try
        {
            var limit = Task.Delay(_options.AbandonedWorkTimeout, _time);
            if (await Task.WhenAny(workTask, limit).ConfigureAwait(false) != workTask)
            {
                // Given up while the work still runs: its pooled agents must never serve anyone else.
                scope.GiveUpWork(workTask);
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
            _limiter.Release(slot);
            Interlocked.Decrement(ref _abandoned);
        }
    }

    /// <summary>
    /// Ends a run that has no scope (rejected, cancelled in the queue, or its scope could not be created): its one terminal
    /// event goes straight to the user's connections, and nothing counts as a finished scope for the isolation score.
    /// </summary>
    private RunResult EndWithoutScope(UserExecutionContext context, RunStatus status, long start, Exception? exception, string message)
    {
        var duration = Stopwatch.GetElapsedTime(start);
        var tag = StatusTag(status);
        _metrics.RunEnded(tag);
        try
        {
            _registry.Publish(new EventEnvelope(
                context.UserId,
                context.ConnectionId,
                context.RunId,
                1,
                _time.GetUtcNow(),
                TerminalType(status),
                new RunEndedEvent(tag, message, duration.TotalMilliseconds, null)));
        }
#pragma warning disable CA1031 // Ending a run must not throw into the caller; delivery problems are counted by the registry.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.TerminalEventFailed(_logger, ex, context.ToString());
        }

        return new RunResult(context, status, duration, exception, 0);
    }

    /// <summary>
    /// Completes when the work returns or the scope is aborted, remembering whether the work was still running at the
    /// abort. Reused run after run when nothing can touch it any more: the work's continuation ran (the work came first)
    /// and the abort callback was unregistered before it ran.
    /// </summary>
    private sealed class RunWatch : IValueTaskSource<bool>
    {
        private readonly Action _onWork;
        private ManualResetValueTaskSourceCore<bool> _core;
        private Task? _work;
        private CancellationTokenRegistration _abort;
        private int _signalled;
        private bool _abortedFirst;

        public RunWatch() => _onWork = OnWork;

        public ValueTask<bool> Start(Task work, CancellationToken aborted)
        {
            _core.Reset();
            _work = work;
            _abortedFirst = false;
            Volatile.Write(ref _signalled, 0);
            _abort = aborted.UnsafeRegister(static s => ((RunWatch)s!).OnAbort(), this);
            work.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onWork);
            return new ValueTask<bool>(this, _core.Version);
        }

        /// <summary>After the wait: whether the watch can serve another run.</summary>
        public bool TryFinish()
        {
            var reusable = !_abortedFirst && _abort.Unregister();
            _abort = default;
            _work = null;
            return reusable;
        }

        public bool GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        private void OnWork()
        {
            if (Interlocked.Exchange(ref _signalled, 1) == 0)
            {
                // The work came first: the runner goes on where the work returned, as it would awaiting the work itself.
                _core.RunContinuationsAsynchronously = false;
                _core.SetResult(false);
            }
        }

        private void OnAbort()
        {
            // Work that is done already is not cut short: its own continuation reports it.
            if (_work is { IsCompleted: false } && Interlocked.Exchange(ref _signalled, 1) == 0)
            {
                _abortedFirst = true;

                // Never inside the code that aborted (a timer, the caller's cancellation, Abort()).
                _core.RunContinuationsAsynchronously = true;
                _core.SetResult(true);
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowInvalidDeadline(TimeSpan deadline, string paramName) =>
        throw new ArgumentOutOfRangeException(
            paramName,
            deadline,
            string.Format(
                CultureInfo.InvariantCulture,
                "RunOptions.Deadline (or IsolatedRunnerOptions.DefaultDeadline) is {0}; a run's deadline must be positive and at most {1}. Leave RunOptions.Deadline null to use the default.",
                deadline,
                IsolationOptions.MaxDeadline));
}
