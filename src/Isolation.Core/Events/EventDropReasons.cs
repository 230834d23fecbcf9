namespace Isolation;

/// <summary>Values of the <c>reason</c> tag of <c>isolation.events.dropped</c>. Documented in <c>docs/events.md</c>.</summary>
internal static class EventDropReasons
{
    /// <summary>The user had no connection when the event was emitted.</summary>
    public const string NoConnection = "no_connection";

    /// <summary>The run had already ended (terminal event emitted, emitter sealed, or scope disposed).</summary>
    public const string RunEnded = "run_ended";

    /// <summary>The connection's queue was full (the dropped event is the oldest or the newest, depending on the mode).</summary>
    public const string QueueFull = "queue_full";

    /// <summary>The connection closed or was removed with the event still queued, or before it could be queued.</summary>
    public const string ConnectionClosed = "connection_closed";

    /// <summary>Sending the event failed or timed out; the connection was removed.</summary>
    public const string SendFailed = "send_failed";

    /// <summary>The event's payload could not be serialized.</summary>
    public const string SerializationFailed = "serialization_failed";

    /// <summary>The event was addressed to another user than the connection's owner and was refused.</summary>
    public const string EventLeak = "event_leak";

    /// <summary>A custom <see cref="IEventSink"/> returned <see langword="false"/> from <see cref="IEventSink.TryWrite"/>.</summary>
    public const string SinkRejected = "sink_rejected";
}
