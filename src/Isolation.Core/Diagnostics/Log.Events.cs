using Microsoft.Extensions.Logging;

namespace Isolation.Diagnostics;

/// <content>Agent event delivery: event ids 1200-1299.</content>
internal static partial class Log
{
    [LoggerMessage(EventId = 1201, EventName = "EventDropped", Level = LogLevel.Debug,
        Message = "Event {Type} #{Sequence} of run {RunId} for user '{UserId}' was dropped: {Reason}.")]
    public static partial void EventDropped(ILogger logger, string type, long sequence, string runId, string userId, string reason);

    [LoggerMessage(EventId = 1202, EventName = "EventConnectionRegistered", Level = LogLevel.Debug,
        Message = "Connection {ConnectionId} of user '{UserId}' registered for agent events.")]
    public static partial void ConnectionRegistered(ILogger logger, string connectionId, string userId);

    [LoggerMessage(EventId = 1203, EventName = "EventConnectionRemoved", Level = LogLevel.Debug,
        Message = "Connection {ConnectionId} of user '{UserId}' removed from agent event delivery; {Dropped} queued events were dropped.")]
    public static partial void ConnectionRemoved(ILogger logger, string connectionId, string userId, long dropped);

    [LoggerMessage(EventId = 1204, EventName = "EventQueueFullConnectionClosed", Level = LogLevel.Warning,
        Message = "The event queue of connection {ConnectionId} of user '{UserId}' is full ({Capacity} events): the client reads slower than its events arrive. The connection was aborted (QueueFullMode = CloseConnection).")]
    public static partial void QueueFullConnectionClosed(ILogger logger, string connectionId, string userId, int capacity);

    [LoggerMessage(EventId = 1205, EventName = "EventSendTimedOut", Level = LogLevel.Warning,
        Message = "Sending an event to connection {ConnectionId} of user '{UserId}' took longer than {Timeout}; the client stopped reading. The connection was aborted and removed.")]
    public static partial void SendTimedOut(ILogger logger, string connectionId, string userId, TimeSpan timeout);

    [LoggerMessage(EventId = 1206, EventName = "EventSendFailed", Level = LogLevel.Information,
        Message = "Sending an event to connection {ConnectionId} of user '{UserId}' failed; the connection was removed.")]
    public static partial void SendFailed(ILogger logger, Exception exception, string connectionId, string userId);

    [LoggerMessage(EventId = 1207, EventName = "EventSerializationFailed", Level = LogLevel.Error,
        Message = "Event {Type} of run {RunId} could not be serialized (payload type {PayloadType}) and was dropped. Add the payload type to the JsonSerializerContext set as EventDeliveryOptions.PayloadTypeInfoResolver.")]
    public static partial void SerializationFailed(ILogger logger, Exception exception, string type, string runId, string payloadType);

    [LoggerMessage(EventId = 1208, EventName = "EventSinkFailed", Level = LogLevel.Error,
        Message = "Event sink {SinkType} of connection {ConnectionId} threw from TryWrite; the event was dropped for that connection and still delivered to the others. IEventSink.TryWrite must not throw.")]
    public static partial void SinkFailed(ILogger logger, Exception exception, string sinkType, string connectionId);

    [LoggerMessage(EventId = 1209, EventName = "EventConnectionLimitReached", Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} of user '{UserId}' was refused: the user already has {Limit} connections registered (EventDeliveryOptions.MaxConnectionsPerUser). A WebSocket is closed with status 1008 (policy violation).")]
    public static partial void ConnectionLimitReached(ILogger logger, string connectionId, string userId, int limit);
}
