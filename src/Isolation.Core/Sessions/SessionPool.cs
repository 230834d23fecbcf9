using Isolation.Diagnostics;
using Isolation.Internal;

namespace Isolation;

/// <summary>
/// The bounded pool of one session type: at most <see cref="IsolatedSessionOptions.MaxSessions"/> sessions open at once,
/// a wait of at most <see cref="IsolatedSessionOptions.AcquireTimeout"/> for a free slot, never an unbounded hang.
/// </summary>
/// <remarks>
/// The pool bounds open sessions; it does not keep idle ones. Each acquire calls the registered factory and each release
/// disposes the session. A reused session could carry one user's state (an open transaction, temporary tables, session
/// variables, a change tracker) into the next user's request, and database providers already pool the physical
/// connections underneath (closing an Npgsql or SqlClient connection returns it to the provider's pool, reset).
/// </remarks>
/// <typeparam name="TSession">The session type.</typeparam>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "SemaphoreSlim needs disposal only when its AvailableWaitHandle was used, which it never is here; guards may still return slots after the container is disposed.")]
internal sealed class SessionPool<TSession>
    where TSession : class
{
    internal static readonly string TypeName = TypeNames.Of<TSession>();
    private static readonly KeyValuePair<string, object?> TypeTag = new(IsolationTelemetry.SessionTypeTag, TypeName);

    private readonly Func<IServiceProvider, CancellationToken, ValueTask<TSession>> _factory;
    private readonly SemaphoreSlim _slots;
    private readonly TimeProvider _time;
    private readonly SessionMetrics _metrics;
    private int _held;
    private int _peakHeld;
    private long _acquired;
    private long _waits;
    private long _timeouts;

    public SessionPool(
        Func<IServiceProvider, CancellationToken, ValueTask<TSession>> factory,
        IsolatedSessionOptions options,
        IsolationMonitor monitor,
        SessionMetrics metrics,
        TimeProvider time)
    {
        _factory = factory;
        MaxSessions = options.MaxSessions;
        AcquireTimeout = options.AcquireTimeout;
        Monitor = monitor;
        _metrics = metrics;
        _time = time;
        _slots = new SemaphoreSlim(MaxSessions, MaxSessions);
    }

    public int MaxSessions { get; }

    public TimeSpan AcquireTimeout { get; }

    public IsolationMonitor Monitor { get; }

    /// <summary>Gets how many sessions are held right now.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Gets the most sessions held at the same time since start.</summary>
    public int PeakHeld => Volatile.Read(ref _peakHeld);

    /// <summary>Gets how many sessions were handed out since start.</summary>
    public long Acquired => Interlocked.Read(ref _acquired);

    /// <summary>Gets how many acquires found the pool full and had to wait.</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>Gets how many acquires gave up with <see cref="SessionPoolExhaustedException"/>.</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <param name="scope">The scope that opens the session.</param>
    /// <param name="creationStackTrace">Where <c>OpenSessionAsync</c> was called (Paranoid leak detection), captured before any await.</param>
    /// <param name="cancellationToken">Cancels the wait and the creation.</param>
    public async ValueTask<SessionGuard<TSession>> OpenAsync(IsolationScope scope, string? creationStackTrace, CancellationToken cancellationToken)
    {
        scope.ThrowIfDisposed(TypeName);
        var start = _time.GetTimestamp();

        // The scope's abort (deadline, Abort(), disposal) cancels a waiting acquire as well as the caller's token.
        var token = scope.Aborted;
        CancellationTokenSource? linked = null;
        if (cancellationToken.CanBeCanceled && cancellationToken != token)
        {
            linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, token);
            token = linked.Token;
        }

        try
        {
            token.ThrowIfCancellationRequested();
            if (!_slots.Wait(0, CancellationToken.None))
            {
                await WaitForSlotAsync(scope, start, token).ConfigureAwait(false);
            }

            TakeSlot();
            TSession? session;
            try
            {
                session = await _factory(scope.Services, token).ConfigureAwait(false);
            }
            catch
            {
                ReturnSlot();
                throw;
            }

            if (session is null)
            {
                ReturnSlot();
                ThrowHelper.ThrowInvalidOperation(
                    $"The factory registered with AddIsolatedSession<{typeof(TSession).Name}>(factory) returned null for {scope.Context}. It must create and return a new {TypeName} on every call.");
            }

            var guard = new SessionGuard<TSession>(this, scope, session, creationStackTrace);
            _metrics.Acquired(TypeTag, _metrics.AcquireDurationEnabled ? _time.GetElapsedTime(start).TotalSeconds : -1);
            if (!scope.TryAddResource(guard))
            {
                // The scope began ending while the session was being opened: close it, give the slot back and refuse.
                await guard.DisposeAsync().ConfigureAwait(false);
                scope.ThrowIfDisposed(TypeName);
            }

            return guard;
        }
        finally
        {
            linked?.Dispose();
        }
    }

    /// <summary>Called once per released session, after the session was closed.</summary>
    public void Release()
    {
        _metrics.Released(TypeTag);
        ReturnSlot();
    }

    private async ValueTask WaitForSlotAsync(IsolationScope scope, long start, CancellationToken token)
    {
        Interlocked.Increment(ref _waits);
        using var timeout = new CancellationTokenSource(AcquireTimeout, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
        try
        {
            await _slots.WaitAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !token.IsCancellationRequested)
        {
            Interlocked.Increment(ref _timeouts);
            var waited = _time.GetElapsedTime(start);
            var held = Held;
            Log.SessionPoolExhausted(Monitor.Logger, TypeName, held, MaxSessions, waited.TotalSeconds, scope.Context.ToString());
            throw new SessionPoolExhaustedException(TypeName, MaxSessions, held, waited, scope.Context);
        }
    }

    private void TakeSlot()
    {
        Interlocked.Increment(ref _acquired);
        var held = Interlocked.Increment(ref _held);
        var peak = Volatile.Read(ref _peakHeld);
        while (held > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakHeld, held, peak);
            if (seen == peak)
            {
                break;
            }

            peak = seen;
        }
    }

    private void ReturnSlot()
    {
        Interlocked.Decrement(ref _held);
        _slots.Release();
    }
}
