using System.Collections.Concurrent;

namespace Isolation.Execution;

/// <summary>
/// A run's deadline, kept by the runner on a timer that serves one run after another: armed when the run's scope is
/// created, it calls <see cref="IsolationScope.ExpireDeadline"/> when the deadline passes (cancelling
/// <see cref="IsolationScope.Aborted"/> with <see cref="IsolationScope.DeadlineExceeded"/> set, as the scope's own timer
/// does), and is disarmed when the run ends. A run allocates neither a timer nor a cancellation source for it.
/// </summary>
internal sealed class RunDeadline : IDisposable
{
    private const int MaximumRetained = 1024;

    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly object _gate = new();
    private IsolationScope? _scope;
    private long _dueTimestamp;

    private RunDeadline(TimeProvider time)
    {
        _time = time;

        // The timer's callback must not keep anyone's execution context alive.
        using (ExecutionContext.SuppressFlow())
        {
            _timer = time.CreateTimer(static s => ((RunDeadline)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Takes a timer from <paramref name="pool"/> (or makes one) and arms it for <paramref name="scope"/>.</summary>
    public static RunDeadline Start(ConcurrentQueue<RunDeadline> pool, TimeProvider time, IsolationScope scope, TimeSpan deadline)
    {
        if (!pool.TryDequeue(out var timer))
        {
            timer = new RunDeadline(time);
        }

        lock (timer._gate)
        {
            timer._scope = scope;
            timer._dueTimestamp = time.GetTimestamp() + (long)((Int128)deadline.Ticks * time.TimestampFrequency / TimeSpan.TicksPerSecond);

            // Under the lock, so that a late callback's re-arming (below) cannot overwrite this one.
            timer._timer.Change(deadline, Timeout.InfiniteTimeSpan);
        }

        return timer;
    }

    /// <summary>Disarms the timer (its scope's deadline no longer matters) and gives it back to <paramref name="pool"/>.</summary>
    public void Stop(ConcurrentQueue<RunDeadline> pool)
    {
        lock (_gate)
        {
            _scope = null;
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        if (pool.Count < MaximumRetained)
        {
            pool.Enqueue(this);
        }
        else
        {
            Dispose();
        }
    }

    public void Dispose() => _timer.Dispose();

    private void OnTimer()
    {
        IsolationScope? scope;
        lock (_gate)
        {
            scope = _scope;
            if (scope is null)
            {
                return;
            }

            var remaining = _dueTimestamp - _time.GetTimestamp();
            if (remaining > 0)
            {
                // A callback of an earlier arming that was already on its way, or a timer a little early: wait for the rest.
                var rest = TimeSpan.FromTicks(Math.Max(1, (long)((Int128)remaining * TimeSpan.TicksPerSecond / _time.TimestampFrequency)));
                _timer.Change(rest, Timeout.InfiniteTimeSpan);
                return;
            }

            _scope = null;
        }

        // Before the token is cancelled: work woken by the cancellation (even inline, inside it) is already past its run.
        scope.CloseEventsToWork();
        scope.ExpireDeadline();
    }
}
