using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Tasks.Sources;
using Isolation.Diagnostics;
using Isolation.Internal;
using Microsoft.Extensions.Logging;

namespace Isolation;

/// <summary>
/// Delivers one user's agent events to one <see cref="WebSocket"/>: a bounded outbound queue and one writer loop, so at
/// most one send is in flight per socket and a slow or dead client never delays anyone else's events. Created and
/// registered by <see cref="IConnectionRegistry.RegisterWebSocket"/>.
/// </summary>
/// <remarks>
/// <para>
/// The queue is lock-free: <see cref="TryWrite"/> reserves a place with one interlocked increment, appends to a
/// multi-producer queue and, only when the writer loop is idle, wakes it; it never takes a lock that the writer loop also
/// takes, so a send in flight never holds up the runs that emit.
/// </para>
/// <para>
/// The connection leaves the registry, and the writer loop ends, when the sink is disposed, when the connection's abort
/// token fires, when a send fails or exceeds <see cref="EventDeliveryOptions.SendTimeout"/> (the socket is then aborted),
/// or when the queue overflows with <see cref="EventQueueFullMode.CloseConnection"/>; at the latest, when the next event
/// finds the socket no longer open. Events still queued then are dropped and counted. The sink never closes the socket
/// gracefully: the code that accepted it keeps reading it and closes it. The one exception is a connection the registry refuses (<see cref="EventDeliveryOptions.MaxConnectionsPerUser"/>):
/// its sink closes the socket with status 1008 (policy violation) and a reason naming the limit, and never joins the registry.
/// </para>
/// </remarks>
public sealed class WebSocketEventSink : IEventSink, IAsyncDisposable
{
    private readonly ConnectionRegistry _registry;
    private readonly WebSocket _socket;
    private readonly ConcurrentQueue<EventEnvelope> _queue = new();
    private readonly WriterSignal _signal = new();
    private readonly int _capacity;
    private readonly EventQueueFullMode _fullMode;
    private readonly TimeSpan _sendTimeout;
    private IDisposable? _registration;
    private CancellationTokenRegistration _abortRegistration;
    private CancellationTokenSource? _sendTimeoutSource;
    private Task _completion = Task.CompletedTask;
    private int _stopping;

    // Places taken in the queue: the events in it plus those being added. Above the capacity, QueueFullMode applies.
    private int _reserved;

    // 1 while the writer loop waits for an event (or is about to): the next TryWrite wakes it.
    private int _waiting;

    // 1 once Close has started draining: an event queued after that point is drained by its own writer.
    private int _closed;
    private long _sent;
    private long _dropped;

    internal WebSocketEventSink(ConnectionRegistry registry, WebSocket socket, string userId, string connectionId)
    {
        _registry = registry;
        _socket = socket;
        UserId = userId;
        ConnectionId = connectionId;
        var options = registry.Options;
        _fullMode = options.QueueFullMode;
        _capacity = options.QueueCapacity;
        _sendTimeout = options.SendTimeout;
    }

    /// <inheritdoc />
    public string UserId { get; }

    /// <inheritdoc />
    public string ConnectionId { get; }

    /// <summary>Gets a task that completes when the writer loop has ended and the connection has left the registry. It never faults.</summary>
    public Task Completion => _completion;

    /// <summary>Gets how many events were sent on the socket (handed to the WebSocket; the client may still not have read them).</summary>
    public long SentCount => Interlocked.Read(ref _sent);

    /// <summary>Gets how many events for this connection were dropped or refused, all reasons together (see <c>isolation.events.dropped</c>).</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>Gets how many events wait in the queue.</summary>
    internal int QueuedCount => _queue.Count;

    /// <summary>
    /// Queues an envelope of this connection's user without waiting. An envelope of another user is refused and reported
    /// as <see cref="ViolationKind.EventLeak"/>; a full queue applies <see cref="EventDeliveryOptions.QueueFullMode"/>.
    /// </summary>
    /// <param name="envelope">The envelope.</param>
    /// <returns>
    /// <see langword="true"/> when the envelope was queued. Not proof of delivery: it may still be dropped to make room
    /// (<see cref="EventQueueFullMode.DropOldest"/>) or when the connection ends.
    /// </returns>
    public bool TryWrite(EventEnvelope envelope)
    {
        Guard.NotNull(envelope);
        if (!string.Equals(envelope.UserId, UserId, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _dropped);
            _registry.Metrics.RefuseLeak(envelope, this);
            return false;
        }

        if (Volatile.Read(ref _stopping) != 0)
        {
            Drop(EventDropReasons.ConnectionClosed, envelope);
            return false;
        }

        if (Interlocked.Increment(ref _reserved) > _capacity && !MakeRoom(envelope))
        {
            return false;
        }

        _queue.Enqueue(envelope);

        // Both reads come after the enqueue's interlocked exchange, and the writer loop sets each flag with an interlocked
        // write before it looks at the queue: either it sees this event, or this sees the flag.
        if (Volatile.Read(ref _closed) != 0)
        {
            DrainClosed(); // The writer loop has ended and may have drained before this event arrived.
        }
        else if (Volatile.Read(ref _waiting) != 0)
        {
            Wake();
        }

        return true;
    }

    /// <summary>
    /// Removes the connection from the registry and stops the writer loop, dropping (and counting) queued events. Waits for
    /// a send in flight, at most <see cref="EventDeliveryOptions.SendTimeout"/>. Does not close the socket. Idempotent.
    /// </summary>
    /// <returns>A task that completes when the writer loop has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        Stop();
        await _completion.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override string ToString() => "WebSocketEventSink for connection " + ConnectionId + " of user '" + UserId + "'";

    /// <summary>Starts the writer loop; called once the sink is in the registry.</summary>
    internal void Start(IDisposable registration, CancellationToken connectionAborted)
    {
        _registration = registration;
        _sendTimeoutSource = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _registry.TimeProvider);

        // Before the loop starts, so the loop's cleanup always finds the registration; an already cancelled token stops
        // the sink right here and the loop ends at once.
        if (connectionAborted.CanBeCanceled)
        {
            _abortRegistration = connectionAborted.UnsafeRegister(static s => ((WebSocketEventSink)s!).Stop(), this);
        }

        _completion = RunAsync();
    }

    /// <summary>
    /// Instead of starting the writer, closes the socket with 1008 (policy violation) and <paramref name="reason"/>: the
    /// registry refused the connection (<see cref="EventDeliveryOptions.MaxConnectionsPerUser"/>). The sink never joins the
    /// registry and delivers nothing; the code that accepted the socket reads the client's close answer as usual.
    /// </summary>
    internal void StartRefused(string reason)
    {
        Interlocked.Exchange(ref _stopping, 1);
        Interlocked.Exchange(ref _closed, 1);
        _completion = CloseRefusedAsync(reason);
    }

    private async Task CloseRefusedAsync(string reason)
    {
        await Task.Yield();
        using var timeout = new CancellationTokenSource(_sendTimeout, _registry.TimeProvider);
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, reason, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The client is already gone or does not read: nothing left to tell it.
            _socket.Abort();
        }
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            return;
        }

        // Wakes the writer loop if it waits for an event; it sees the flag and stops: no cancellation source, no registration.
        Wake();
    }

    private async Task RunAsync()
    {
        // Run the loop off the registering thread: the caller goes on to read the socket.
        await Task.Yield();
        try
        {
            // Stopped (disposed, connection aborted, or queue overflow with CloseConnection): what is still queued is
            // dropped by Close, not sent.
            while (Volatile.Read(ref _stopping) == 0)
            {
                if (!_queue.TryDequeue(out var envelope))
                {
                    await WaitForEventAsync().ConfigureAwait(false);
                    continue;
                }

                Interlocked.Decrement(ref _reserved);
                if (!await SendAsync(envelope).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
#pragma warning disable CA1031 // The loop must always leave the registry; an unexpected failure is logged, not thrown into nowhere.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SendFailed(_registry.Metrics.Logger, ex, ConnectionId, UserId);
        }
        finally
        {
            Close();
        }
    }

    // Pooled: a send that completes asynchronously (the usual case) does not allocate a state machine box each time.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendAsync(EventEnvelope envelope)
    {
        byte[] json;
        try
        {
            json = envelope.GetUtf8Json(_registry.EnvelopeTypeInfo);
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException or ArgumentException)
        {
            Log.SerializationFailed(_registry.Metrics.Logger, ex, envelope.Type, envelope.RunId, envelope.Payload?.GetType().FullName ?? "null");
            Drop(EventDropReasons.SerializationFailed, envelope);
            return true;
        }

        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            Drop(EventDropReasons.ConnectionClosed, envelope);
            return false;
        }

        var timeout = _sendTimeoutSource!;
        timeout.CancelAfter(_sendTimeout);
        try
        {
            await _socket.SendAsync(json.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // The client stopped reading and its buffers are full. Cancelling already aborted the socket; make sure.
            Log.SendTimedOut(_registry.Metrics.Logger, ConnectionId, UserId, _sendTimeout);
            Drop(EventDropReasons.SendFailed, envelope);
            _socket.Abort();
            return false;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            Log.SendFailed(_registry.Metrics.Logger, ex, ConnectionId, UserId);
            Drop(EventDropReasons.SendFailed, envelope);
            return false;
        }

        if (!timeout.TryReset())
        {
            // The timer fired just as the send completed: start the next send with a fresh source.
            timeout.Dispose();
            _sendTimeoutSource = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _registry.TimeProvider);
        }

        Interlocked.Increment(ref _sent);
        return true;
    }

    /// <summary>Leaves the registry and drops what is still queued. Runs once, at the end of the writer loop.</summary>
    private void Close()
    {
        Interlocked.Exchange(ref _stopping, 1);
        Interlocked.Exchange(ref _closed, 1);
        var dropped = DrainClosed();
        _registration?.Dispose();
        _abortRegistration.Dispose();
        _sendTimeoutSource?.Dispose();
        if (_registry.Metrics.Logger.IsEnabled(LogLevel.Debug))
        {
            Log.ConnectionRemoved(_registry.Metrics.Logger, ConnectionId, UserId, dropped);
        }
    }

    /// <summary>
    /// Waits until an event is queued or the sink stops. Announces the wait first, then looks at the queue once more, so an
    /// event queued in between is not missed; whoever takes the announcement back (a producer or this) owns the wake-up.
    /// </summary>
    private ValueTask WaitForEventAsync()
    {
        _signal.Reset();
        Interlocked.Exchange(ref _waiting, 1);
        if ((!_queue.IsEmpty || Volatile.Read(ref _stopping) != 0) && Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            return default;
        }

        return _signal.WaitAsync();
    }

    /// <summary>Wakes the writer loop if it waits; only one caller wins the wait, so it is woken once.</summary>
    private void Wake()
    {
        if (Interlocked.CompareExchange(ref _waiting, 0, 1) == 1)
        {
            _signal.Set();
        }
    }

    /// <summary>
    /// Makes room for one event in a full queue; <see langword="true"/> when <paramref name="envelope"/> may be queued
    /// (drop oldest: the oldest queued event was dropped, and its place is the new one's), <see langword="false"/> when it
    /// was refused (its reservation is given back).
    /// </summary>
    private bool MakeRoom(EventEnvelope envelope)
    {
        if (_fullMode == EventQueueFullMode.DropOldest)
        {
            // Nothing to take when the writer loop emptied the queue meanwhile: then there is room anyway.
            if (_queue.TryDequeue(out var oldest))
            {
                Drop(EventDropReasons.QueueFull, oldest);
            }

            return true;
        }

        Interlocked.Decrement(ref _reserved);
        return OnWriteRefused(envelope);
    }

    /// <summary>Drops (as <c>connection_closed</c>) what is queued once the writer loop has ended; returns how many.</summary>
    private long DrainClosed()
    {
        long dropped = 0;
        while (_queue.TryDequeue(out var envelope))
        {
            Interlocked.Decrement(ref _reserved);
            dropped++;
            Drop(EventDropReasons.ConnectionClosed, envelope);
        }

        return dropped;
    }

    private bool OnWriteRefused(EventEnvelope envelope)
    {
        if (Volatile.Read(ref _stopping) != 0)
        {
            Drop(EventDropReasons.ConnectionClosed, envelope);
            return false;
        }

        Drop(EventDropReasons.QueueFull, envelope);
        if (_fullMode == EventQueueFullMode.CloseConnection && Volatile.Read(ref _stopping) == 0)
        {
            Log.QueueFullConnectionClosed(_registry.Metrics.Logger, ConnectionId, UserId, _registry.Options.QueueCapacity);

            // A client that does not read would not read a close frame either: abort, which also fails the send in flight.
            _socket.Abort();
            Stop();
        }

        return false;
    }

    private void Drop(string reason, EventEnvelope envelope)
    {
        Interlocked.Increment(ref _dropped);
        _registry.Metrics.Dropped(reason, envelope);
    }

    /// <summary>The writer loop's one reusable wait: set by whoever takes back its announcement, continued on the thread pool.</summary>
    private sealed class WriterSignal : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

        public void Reset() => _core.Reset();

        public void Set() => _core.SetResult(true);

        public ValueTask WaitAsync() => new(this, _core.Version);

        public void GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
