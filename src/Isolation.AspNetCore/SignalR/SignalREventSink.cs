using System.Globalization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace Isolation.AspNetCore.SignalR;

/// <summary>
/// Delivers one user's agent events to one SignalR connection, through <c>IHubContext&lt;THub&gt;</c> and
/// <c>Clients.Client(connectionId)</c> only: a bounded queue per connection and one writer loop, so at most one send is in
/// flight per connection and a slow or stalled client never delays anyone else's events. Created and registered by the
/// hub filter of <c>AddSignalR().AddIsolation()</c> when a connection of an authenticated user connects.
/// </summary>
/// <remarks>
/// A full queue (<see cref="EventDeliveryOptions.QueueCapacity"/> events waiting) applies
/// <see cref="EventDeliveryOptions.QueueFullMode"/>: <see cref="EventQueueFullMode.DropOldest"/> drops the oldest queued
/// event to make room and counts it on <c>isolation.events.dropped</c> (reason <c>queue_full</c>);
/// <see cref="EventQueueFullMode.DropNewest"/> refuses the new event (<see cref="TryWrite"/> returns
/// <see langword="false"/>, which the registry counts with reason <c>sink_rejected</c>); with
/// <see cref="EventQueueFullMode.CloseConnection"/> it refuses it and aborts the connection. A run's terminal event is
/// never dropped or refused for a full queue (it may exceed the capacity by one per run), so a slow client
/// still learns how each of its runs ended. A send that takes longer than <see cref="EventDeliveryOptions.SendTimeout"/> aborts the connection. The
/// connection leaves the registry when it disconnects or is aborted; events still queued then are dropped and counted in
/// <see cref="DroppedCount"/>.
/// </remarks>
public sealed class SignalREventSink : IEventSink, IAsyncDisposable
{
    private const string QueueFullReason = "queue_full";

    private readonly IClientProxy _client;
    private readonly string _method;
    private readonly Queue<EventEnvelope> _queue = new();
    private readonly SemaphoreSlim _available = new(0);
    private readonly EventQueueFullMode _fullMode;
    private readonly int _capacity;
    private readonly ConnectionRegistry? _drops;
    private readonly TimeSpan _sendTimeout;
    private readonly Action _abortConnection;
    private readonly IsolationMonitor _monitor;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private IDisposable? _registration;
    private CancellationTokenRegistration _abortRegistration;
    private Task _completion = Task.CompletedTask;
    private int _stopping;
    private long _sent;
    private long _dropped;

    internal SignalREventSink(
        IClientProxy client,
        string userId,
        string connectionId,
        string method,
        EventDeliveryOptions delivery,
        ConnectionRegistry? drops,
        Action abortConnection,
        IsolationMonitor monitor,
        ILogger logger)
    {
        _client = client;
        UserId = userId;
        ConnectionId = connectionId;
        _method = method;
        _fullMode = delivery.QueueFullMode;
        _drops = drops;
        _sendTimeout = delivery.SendTimeout;
        _abortConnection = abortConnection;
        _monitor = monitor;
        _logger = logger;
        _capacity = delivery.QueueCapacity;
    }

    /// <inheritdoc />
    public string UserId { get; }

    /// <inheritdoc />
    public string ConnectionId { get; }

    /// <summary>Gets how many events were handed to SignalR for this connection.</summary>
    public long SentCount => Interlocked.Read(ref _sent);

    /// <summary>Gets how many events for this connection were refused or dropped, all reasons together.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>Gets a task that completes when the writer loop has ended and the connection has left the registry. It never faults.</summary>
    public Task Completion => _completion;

    /// <summary>
    /// Queues an envelope of this connection's user without waiting. An envelope of another user is refused and reported
    /// as <see cref="ViolationKind.EventLeak"/>; a full queue applies <see cref="EventDeliveryOptions.QueueFullMode"/> to
    /// every envelope but a terminal event.
    /// </summary>
    /// <param name="envelope">The envelope.</param>
    /// <returns>
    /// <see langword="true"/> when the envelope was queued. Not proof of delivery: it may still be dropped to make room
    /// (<see cref="EventQueueFullMode.DropOldest"/>) or when the connection ends.
    /// </returns>
    public bool TryWrite(EventEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (!string.Equals(envelope.UserId, UserId, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _dropped);
            RefuseLeak(envelope);
            return false;
        }

        EventEnvelope? evicted = null;
        lock (_queue)
        {
            if (Volatile.Read(ref _stopping) != 0)
            {
                // Stopped: the connection is gone.
                Interlocked.Increment(ref _dropped);
                return false;
            }

            if (_queue.Count >= _capacity && !AgentEventTypes.IsTerminal(envelope.Type))
            {
                if (_fullMode != EventQueueFullMode.DropOldest || (evicted = EvictOldest()) is null)
                {
                    Interlocked.Increment(ref _dropped);
                    return RefuseFull();
                }
            }

            _queue.Enqueue(envelope);
        }

        if (evicted is null)
        {
            _available.Release();
        }
        else
        {
            // The new event took the evicted one's place (and its wake-up); the registry counts only what it sees refused.
            Interlocked.Increment(ref _dropped);
            _drops?.ReportDropped(QueueFullReason, evicted);
        }

        return true;
    }

    /// <summary>Removes the connection from the registry and stops the writer loop, dropping queued events. Idempotent.</summary>
    /// <returns>A task that completes when the writer loop has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        Stop();
        await _completion.ConfigureAwait(false);
    }

    private bool RefuseFull()
    {
        if (_fullMode == EventQueueFullMode.CloseConnection && Volatile.Read(ref _stopping) == 0)
        {
            Log.QueueFullConnectionAborted(_logger, ConnectionId, UserId);
            _abortConnection();
            Stop();
        }

        return false;
    }

    /// <summary>Removes the oldest queued event that is not a terminal event (under the queue's lock); <see langword="null"/> when all are terminal.</summary>
    private EventEnvelope? EvictOldest()
    {
        if (!AgentEventTypes.IsTerminal(_queue.Peek().Type))
        {
            return _queue.Dequeue();
        }

        // Rare: a terminal event heads the queue. Keep the order of everything else.
        EventEnvelope? evicted = null;
        for (var n = _queue.Count; n > 0; n--)
        {
            var item = _queue.Dequeue();
            if (evicted is null && !AgentEventTypes.IsTerminal(item.Type))
            {
                evicted = item;
                continue;
            }

            _queue.Enqueue(item);
        }

        return evicted;
    }

    /// <inheritdoc />
    public override string ToString() => "SignalREventSink for connection " + ConnectionId + " of user '" + UserId + "'";

    internal void Start(IDisposable registration, CancellationToken connectionAborted)
    {
        _registration = registration;
        if (connectionAborted.CanBeCanceled)
        {
            _abortRegistration = connectionAborted.UnsafeRegister(static s => ((SignalREventSink)s!).Stop(), this);
        }

        _completion = RunAsync();
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
    }

    private async Task RunAsync()
    {
        await Task.Yield();
        var arguments = new object?[1];
        try
        {
            while (true)
            {
                await _available.WaitAsync(_stop.Token).ConfigureAwait(false);
                EventEnvelope? envelope;
                lock (_queue)
                {
                    if (!_queue.TryDequeue(out envelope))
                    {
                        continue;
                    }
                }

                arguments[0] = envelope;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(_sendTimeout);
                try
                {
                    await _client.SendCoreAsync(_method, arguments, timeout.Token).ConfigureAwait(false);
                    Interlocked.Increment(ref _sent);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_stop.IsCancellationRequested)
                {
                    // The client stopped reading and its buffers are full: it would delay nobody else, but holds memory.
                    Interlocked.Increment(ref _dropped);
                    Log.SendTimedOut(_logger, ConnectionId, UserId, _sendTimeout);
                    _abortConnection();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disconnected, aborted or disposed.
        }
#pragma warning disable CA1031 // The loop must always leave the registry; a failure is logged, not thrown into nowhere.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SendFailed(_logger, ex, ConnectionId, UserId);
            _abortConnection();
        }
        finally
        {
            Close();
        }
    }

    private void Close()
    {
        Interlocked.Exchange(ref _stopping, 1);
        lock (_queue)
        {
            Interlocked.Add(ref _dropped, _queue.Count);
            _queue.Clear();
        }

        _registration?.Dispose();
        _abortRegistration.Dispose();
    }

    private void RefuseLeak(EventEnvelope envelope)
    {
        var message = string.Format(
            CultureInfo.InvariantCulture,
            "Event '{0}' #{1} of run {2} belongs to another user than the owner of SignalR connection {3}; it was refused and not sent. Events reach a user's connections only through scope.Events and the connection registry; do not hand envelopes to another connection's sink.",
            envelope.Type,
            envelope.Sequence,
            envelope.RunId,
            ConnectionId);
        _monitor.ReportViolation(new IsolationViolation(
            ViolationKind.EventLeak,
            typeof(SignalREventSink).FullName!,
            message,
            new UserExecutionContext(envelope.UserId, envelope.ConnectionId, envelope.RunId),
            new UserExecutionContext(UserId, ConnectionId)));
    }
}
