using System.Collections.Concurrent;

namespace Isolation.Execution;

/// <summary>
/// The per-user concurrency limit of the runner: a slot count per user, with an optional first-in first-out queue.
/// A user's entry stays while the user holds a slot or waits for one, and while the user keeps running: an entry that
/// went idle is kept for the user's next run (so a run allocates nothing here) and removed by the first sweep that
/// finds it idle a second time. Sweeps are started by runs (at most one per <see cref="SweepInterval"/>, on the thread
/// pool), so users who left cost nothing for long; there is no process-wide lock (each user's entry has its own) and no
/// idle-cleanup timer to race with: an entry is retired under its own lock, and a run that finds it retired takes a new one.
/// </summary>
internal sealed class UserRunLimiter : IThreadPoolWorkItem
{
    /// <summary>How often at most a run starts a sweep of idle entries, in milliseconds.</summary>
    internal const long SweepInterval = 1_000;

    private readonly ConcurrentDictionary<string, UserSlots> _users = new(StringComparer.Ordinal);
    private readonly int _permits;
    private readonly int _queueLimit;
    private long _nextSweep;
    private int _sweeping;

    public UserRunLimiter(int permits, int queueLimit)
    {
        _permits = permits;
        _queueLimit = queueLimit;
        _nextSweep = Environment.TickCount64 + SweepInterval;
    }

    /// <summary>Gets how many users hold or wait for a slot (idle entries kept for reuse do not count).</summary>
    public int UserCount
    {
        get
        {
            var count = 0;
            foreach (var pair in _users)
            {
                lock (pair.Value)
                {
                    if (!IsIdle(pair.Value))
                    {
                        count++;
                    }
                }
            }

            return count;
        }
    }

    /// <summary>Gets how many entries the limiter holds, idle ones included.</summary>
    internal int EntryCount => _users.Count;

    /// <summary>Retires every idle entry now (what two sweeps do over time).</summary>
    internal void RemoveIdle()
    {
        Sweep();
        Sweep();
    }

    /// <summary>One sweep: an entry idle at the previous sweep and still idle now leaves the dictionary for good.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        try
        {
            Sweep();
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>Takes a slot of <paramref name="userId"/> without waiting; <see langword="null"/> when all are taken.</summary>
    public UserSlots? TryAcquire(string userId)
    {
        MaybeSweep();
        while (true)
        {
            var slots = _users.GetOrAdd(userId, static id => new UserSlots(id));
            lock (slots)
            {
                if (slots.Retired)
                {
                    continue;
                }

                slots.SeenIdle = false;
                if (slots.Held < _permits)
                {
                    slots.Held++;
                    return slots;
                }

                RetireIfIdle(slots);
                return null;
            }
        }
    }

    /// <summary>
    /// Takes a slot, waiting in the user's queue when all are taken and the queue has room. Returns
    /// <see langword="null"/> when the queue is full; throws <see cref="OperationCanceledException"/> when cancelled while waiting.
    /// </summary>
    public ValueTask<UserSlots?> AcquireAsync(string userId, CancellationToken cancellationToken)
    {
        MaybeSweep();
        while (true)
        {
            var slots = _users.GetOrAdd(userId, static id => new UserSlots(id));
            Waiter waiter;
            lock (slots)
            {
                if (slots.Retired)
                {
                    continue;
                }

                slots.SeenIdle = false;

                if (slots.Held < _permits && (slots.Waiters is null || slots.Waiters.Count == 0))
                {
                    slots.Held++;
                    return new ValueTask<UserSlots?>(slots);
                }

                cancellationToken.ThrowIfCancellationRequested();
                var waiters = slots.Waiters ??= new LinkedList<Waiter>();
                if (waiters.Count >= _queueLimit)
                {
                    RetireIfIdle(slots);
                    return new ValueTask<UserSlots?>((UserSlots?)null);
                }

                waiter = new Waiter(slots);
                waiter.Node = waiters.AddLast(waiter);
            }

            return WaitAsync(waiter, cancellationToken);
        }
    }

    /// <summary>Gives a slot back: to the user's first waiter when there is one, otherwise to the pool.</summary>
#pragma warning disable CA1822 // An operation of the limiter, like TryAcquire: the entry it releases belongs to this limiter.
    public void Release(UserSlots slots)
#pragma warning restore CA1822
    {
        lock (slots)
        {
            var waiters = slots.Waiters;
            while (waiters is { First: { } first })
            {
                waiters.RemoveFirst();
                first.Value.Node = null;

                // The slot passes to the waiter as it is: Held does not change.
                if (first.Value.TrySetResult(slots))
                {
                    return;
                }
            }

            // Idle now: kept for the user's next run; a sweep removes it if it stays idle.
            slots.Held--;
        }
    }

    private static async ValueTask<UserSlots?> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        using (cancellationToken.UnsafeRegister(static s => ((Waiter)s!).Cancel(), waiter))
        {
            return await waiter.Task.ConfigureAwait(false);
        }
    }

    // Called under the entry's lock.
    private static bool IsIdle(UserSlots slots) => slots.Held == 0 && (slots.Waiters is null || slots.Waiters.Count == 0);

    // Called under the entry's lock: an entry with no slot taken and nobody waiting leaves the dictionary for good.
    private void RetireIfIdle(UserSlots slots)
    {
        if (IsIdle(slots))
        {
            slots.Retired = true;
            _users.TryRemove(new KeyValuePair<string, UserSlots>(slots.UserId, slots));
        }
    }

    // At most one sweep per interval, started by a run and done on the thread pool (this object is the work item).
    private void MaybeSweep()
    {
        var now = Environment.TickCount64;
        if (now < Volatile.Read(ref _nextSweep) || Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0)
        {
            return;
        }

        Volatile.Write(ref _nextSweep, now + SweepInterval);
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    private void Sweep()
    {
        foreach (var pair in _users)
        {
            var slots = pair.Value;
            lock (slots)
            {
                if (!IsIdle(slots))
                {
                    slots.SeenIdle = false;
                }
                else if (slots.SeenIdle)
                {
                    RetireIfIdle(slots);
                }
                else
                {
                    slots.SeenIdle = true;
                }
            }
        }
    }

    /// <summary>One user's slots. Retired once idle; a retired entry is never used again.</summary>
    internal sealed class UserSlots
    {
        public UserSlots(string userId) => UserId = userId;

        public string UserId { get; }

#pragma warning disable SA1401, CA1051 // State of the entry, read and written under its lock only.
        public int Held;
        public bool Retired;
        public bool SeenIdle;
        public LinkedList<Waiter>? Waiters;
#pragma warning restore SA1401, CA1051
    }

    /// <summary>A run waiting in its user's queue.</summary>
    internal sealed class Waiter : TaskCompletionSource<UserSlots?>
    {
        private readonly UserSlots _slots;

        public Waiter(UserSlots slots)
            : base(TaskCreationOptions.RunContinuationsAsynchronously) => _slots = slots;

        public LinkedListNode<Waiter>? Node { get; set; }

        public void Cancel()
        {
            lock (_slots)
            {
                // Already handed a slot (or cancelled): the release that handed it over owns the outcome.
                if (Node is not { } node)
                {
                    return;
                }

                _slots.Waiters!.Remove(node);
                Node = null;
                TrySetCanceled();
            }
        }
    }
}
