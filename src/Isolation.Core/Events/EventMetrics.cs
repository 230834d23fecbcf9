using System.Diagnostics.Metrics;
using System.Globalization;
using Isolation.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Isolation;

/// <summary>
/// The <c>isolation.events.dropped</c> counter (on the library's meter) and the reporting shared by the registry, the
/// sinks and the emitters: every event that is not delivered goes through <see cref="Dropped"/>.
/// </summary>
internal sealed class EventMetrics
{
    private static readonly KeyValuePair<string, object?> NoConnectionTag = Tag(EventDropReasons.NoConnection);
    private static readonly KeyValuePair<string, object?> RunEndedTag = Tag(EventDropReasons.RunEnded);
    private static readonly KeyValuePair<string, object?> QueueFullTag = Tag(EventDropReasons.QueueFull);
    private static readonly KeyValuePair<string, object?> ConnectionClosedTag = Tag(EventDropReasons.ConnectionClosed);
    private static readonly KeyValuePair<string, object?> SendFailedTag = Tag(EventDropReasons.SendFailed);
    private static readonly KeyValuePair<string, object?> SerializationFailedTag = Tag(EventDropReasons.SerializationFailed);
    private static readonly KeyValuePair<string, object?> EventLeakTag = Tag(EventDropReasons.EventLeak);
    private static readonly KeyValuePair<string, object?> SinkRejectedTag = Tag(EventDropReasons.SinkRejected);

    private readonly Counter<long> _dropped;
    private readonly Counter<long> _refused;
    private long _droppedTotal;

    public EventMetrics(IsolationMonitor monitor)
    {
        Monitor = monitor;
        _dropped = monitor.Metrics.Meter.CreateCounter<long>(
            IsolationTelemetry.EventsDropped,
            unit: "{event}",
            description: "Agent events that were not delivered to a connection, by reason.");
        _refused = monitor.Metrics.Meter.CreateCounter<long>(
            IsolationTelemetry.ConnectionsRefused,
            unit: "{connection}",
            description: "Event connections that were refused instead of registered, by reason.");
    }

    public IsolationMonitor Monitor { get; }

    public ILogger Logger => Monitor.Logger;

    /// <summary>Gets how many events were dropped since start, all reasons together.</summary>
    public long DroppedTotal => Interlocked.Read(ref _droppedTotal);

    public void Dropped(string reason, EventEnvelope? envelope, long count = 1)
    {
        Interlocked.Add(ref _droppedTotal, count);
        _dropped.Add(count, TagFor(reason));
        if (envelope is not null && Logger.IsEnabled(LogLevel.Debug))
        {
            Log.EventDropped(Logger, envelope.Type, envelope.Sequence, envelope.RunId, envelope.UserId, reason);
        }
    }

    /// <summary>Counts a connection the registry refused (see <see cref="ConnectionRefusalReasons"/>).</summary>
    public void ConnectionRefused(string reason) => _refused.Add(1, Tag(reason));

    /// <summary>Counts an event that was never stamped into an envelope (its run had ended); allocates nothing unless debug logging is on.</summary>
    public void DroppedBeforeStamp(string reason, UserExecutionContext context, string type)
    {
        Interlocked.Increment(ref _droppedTotal);
        _dropped.Add(1, TagFor(reason));
        if (Logger.IsEnabled(LogLevel.Debug))
        {
            Log.EventDropped(Logger, type, 0, context.RunId, context.UserId, reason);
        }
    }

    /// <summary>
    /// Refuses an envelope that reached a connection of another user: reported as <see cref="ViolationKind.EventLeak"/> in
    /// every mode (the event is never sent, so nothing is thrown at the sender) and counted as dropped.
    /// </summary>
    public void RefuseLeak(EventEnvelope envelope, IEventSink sink)
    {
        var message = string.Format(
            CultureInfo.InvariantCulture,
            "Event '{0}' #{1} of run {2} belongs to user '{3}' but was handed to connection {4} of user '{5}'; it was refused and not sent. Events reach a user's connections only through scope.Events and the connection registry; do not forward envelopes between sinks or broadcast them to every connection.",
            envelope.Type,
            envelope.Sequence,
            envelope.RunId,
            envelope.UserId,
            sink.ConnectionId,
            sink.UserId);
        Monitor.Report(new IsolationViolation(
            ViolationKind.EventLeak,
            sink.GetType().FullName ?? nameof(IEventSink),
            message,
            new UserExecutionContext(envelope.UserId, envelope.ConnectionId, envelope.RunId),
            OwnerContext(sink),
            creationStackTrace: null));
        Dropped(EventDropReasons.EventLeak, envelope);
    }

    /// <summary>
    /// Refuses an envelope sent to a connection id that another user registered (<see cref="ConnectionRegistry.SendToConnection"/>):
    /// reported as <see cref="ViolationKind.EventLeak"/> and counted as dropped, like <see cref="RefuseLeak"/>.
    /// </summary>
    public void RefuseLeakToConnection(EventEnvelope envelope, string connectionId)
    {
        var message = string.Format(
            CultureInfo.InvariantCulture,
            "Event '{0}' of user '{1}' was sent to connection {2}, which user '{1}' has not registered: it belongs to another user. It was refused and not sent. Send to a connection only the user id it was registered with (the connection handler's authenticated user).",
            envelope.Type,
            envelope.UserId,
            connectionId);
        Monitor.Report(new IsolationViolation(
            ViolationKind.EventLeak,
            typeof(ConnectionRegistry).FullName!,
            message,
            new UserExecutionContext(envelope.UserId, envelope.ConnectionId, envelope.RunId),
            otherContext: null,
            creationStackTrace: null));
        Dropped(EventDropReasons.EventLeak, envelope);
    }

    private static UserExecutionContext? OwnerContext(IEventSink sink)
    {
        try
        {
            return new UserExecutionContext(sink.UserId, sink.ConnectionId);
        }
        catch (ArgumentException)
        {
            // A custom sink with an unusable identity: the message still names it.
            return null;
        }
    }

    private static KeyValuePair<string, object?> Tag(string reason) => new(IsolationTelemetry.DropReasonTag, reason);

    private static KeyValuePair<string, object?> TagFor(string reason) => reason switch
    {
        EventDropReasons.NoConnection => NoConnectionTag,
        EventDropReasons.RunEnded => RunEndedTag,
        EventDropReasons.QueueFull => QueueFullTag,
        EventDropReasons.ConnectionClosed => ConnectionClosedTag,
        EventDropReasons.SendFailed => SendFailedTag,
        EventDropReasons.SerializationFailed => SerializationFailedTag,
        EventDropReasons.EventLeak => EventLeakTag,
        EventDropReasons.SinkRejected => SinkRejectedTag,
        _ => Tag(reason),
    };
}
