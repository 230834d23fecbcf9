using System.Collections.Concurrent;

namespace Isolation.Execution;

/// <summary>
/// The per-user concurrency limit of the runner: a slot count per user, with an optional first-in first-out queue.
/// A user's entry exists only while the user holds a slot or waits for one, so users who left cost nothing; there is
/// no process-wide lock (each user's entry has its own) and no idle-cleanup timer to race with.
/// </summary>
internal sealed class UserRunLimiter
{
    private readonly ConcurrentDictionary<string, UserSlots> _users = new(StringComparer.Ordinal);
    private readonly int _permits;
    private readonly int _queueLimit;

    public UserRunLimiter(int permits, int queueLimit)
    {
        _permits = permits;
        _queueLimit = queueLimit;
    }

    /// <summary>Gets how many users hold or wait for a slot.</summary>
    public int UserCount => _users.Count;

    /// <summary>Takes a slot of <paramref name="userId"/> without waiting; <see langword="null"/> when all are taken.</summary>
    public UserSlots? TryAcquire(string userId)
    {
        while (true)
        {
            var slots = _users.GetOrAdd(userId, static id => new UserSlots(id));
            lock (slots)
            {
                if (slots.Retired)
                {
                    continue;
                }

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
    public void Release(UserSlots slots)
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

            slots.Held--;
            RetireIfIdle(slots);
        }
    }

    private static async ValueTask<UserSlots?> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        using (cancellationToken.UnsafeRegister(static s => ((Waiter)s!).Cancel(), waiter))
        {
            return await waiter.Task.ConfigureAwait(false);
        }
    }

    // Called under the entry's lock: an entry with no slot taken and nobody waiting leaves the dictionary for good.
    private void RetireIfIdle(UserSlots slots)
    {
        if (slots.Held == 0 && (slots.Waiters is null || slots.Waiters.Count == 0))
        {
            slots.Retired = true;
            _users.TryRemove(new KeyValuePair<string, UserSlots>(slots.UserId, slots));
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
