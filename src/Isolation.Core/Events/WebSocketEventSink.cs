using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
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
/// The connection leaves the registry, and the writer loop ends, when the sink is disposed, when the connection's abort
/// token fires, when a send fails or exceeds <see cref="EventDeliveryOptions.SendTimeout"/> (the socket is then aborted),
/// or when the queue overflows with <see cref="EventQueueFullMode.CloseConnection"/>; at the latest, when the next event
/// finds the socket no longer open. Events still queued then are dropped and counted. The sink never closes the socket gracefully: the code that accepted it keeps reading it and
/// closes it. The one exception is a connection the registry refuses (<see cref="EventDeliveryOptions.MaxConnectionsPerUser"/>):
/// its sink closes the socket with status 1008 (policy violation) and a reason naming the limit, and never joins the registry.
/// </remarks>
public sealed class WebSocketEventSink : IEventSink, IAsyncDisposable
{
    private readonly ConnectionRegistry _registry;
    private readonly WebSocket _socket;
    private readonly Channel<EventEnvelope> _queue;
    private readonly EventQueueFullMode _fullMode;
    private readonly TimeSpan _sendTimeout;
    private readonly CancellationTokenSource _stop = new();
    private IDisposable? _registration;
    private CancellationTokenRegistration _abortRegistration;
    private CancellationTokenSource? _sendTimeoutSource;
    private Task _completion = Task.CompletedTask;
    private int _stopping;
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
        _sendTimeout = options.SendTimeout;
        var channelOptions = new BoundedChannelOptions(options.QueueCapacity)
        {
            // Drop-oldest is atomic inside the channel; the other modes need to see the refused write themselves.
            FullMode = _fullMode == EventQueueFullMode.DropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        };
        _queue = _fullMode == EventQueueFullMode.DropOldest
            ? Channel.CreateBounded<EventEnvelope>(channelOptions, OnOldestDropped)
            : Channel.CreateBounded<EventEnvelope>(channelOptions);
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
    internal int QueuedCount => _queue.Reader.Count;

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

        return _queue.Writer.TryWrite(envelope) || OnWriteRefused(envelope);
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
        _queue.Writer.TryComplete();
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

        _queue.Writer.TryComplete();
        _stop.Cancel();
    }

    private async Task RunAsync()
    {
        // Run the loop off the registering thread: the caller goes on to read the socket.
        await Task.Yield();
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (!_stop.IsCancellationRequested && reader.TryRead(out var envelope))
                {
                    if (!await SendAsync(envelope).ConfigureAwait(false))
                    {
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped: disposed, connection aborted, or queue overflow with CloseConnection.
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
        _queue.Writer.TryComplete();
        long dropped = 0;
        while (_queue.Reader.TryRead(out var envelope))
        {
            dropped++;
            Drop(EventDropReasons.ConnectionClosed, envelope);
        }

        _registration?.Dispose();
        _abortRegistration.Dispose();
        _sendTimeoutSource?.Dispose();
        if (_registry.Metrics.Logger.IsEnabled(LogLevel.Debug))
        {
            Log.ConnectionRemoved(_registry.Metrics.Logger, ConnectionId, UserId, dropped);
        }
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

    private void OnOldestDropped(EventEnvelope envelope) => Drop(EventDropReasons.QueueFull, envelope);

    private void Drop(string reason, EventEnvelope envelope)
    {
        Interlocked.Increment(ref _dropped);
        _registry.Metrics.Dropped(reason, envelope);
    }
}
