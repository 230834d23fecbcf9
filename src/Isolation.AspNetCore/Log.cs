using Microsoft.Extensions.Logging;

namespace Isolation.AspNetCore;

/// <summary>The package's log messages; event ids 2001–2099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2001, EventName = "SignalRQueueFullConnectionAborted", Level = LogLevel.Warning,
        Message = "The event queue of SignalR connection {ConnectionId} of user '{UserId}' is full; the connection was aborted (EventQueueFullMode.CloseConnection).")]
    public static partial void QueueFullConnectionAborted(ILogger logger, string connectionId, string userId);

    [LoggerMessage(EventId = 2002, EventName = "SignalRSendTimedOut", Level = LogLevel.Warning,
        Message = "Sending an event to SignalR connection {ConnectionId} of user '{UserId}' took longer than {SendTimeout}; the connection was aborted.")]
    public static partial void SendTimedOut(ILogger logger, string connectionId, string userId, TimeSpan sendTimeout);

    [LoggerMessage(EventId = 2003, EventName = "SignalRSendFailed", Level = LogLevel.Warning,
        Message = "Sending an event to SignalR connection {ConnectionId} of user '{UserId}' failed; the connection was aborted.")]
    public static partial void SendFailed(ILogger logger, Exception exception, string connectionId, string userId);

    [LoggerMessage(EventId = 2010, EventName = "FeatureModeEvaluationFailed", Level = LogLevel.Warning,
        Message = "Evaluating feature flag '{FeatureName}' for user '{UserId}' failed; scopes keep mode {Mode} until the next evaluation.")]
    public static partial void FeatureEvaluationFailed(ILogger logger, Exception exception, string featureName, string userId, IsolationMode mode);

    [LoggerMessage(EventId = 2011, EventName = "FeatureModeUnknownVariant", Level = LogLevel.Warning,
        Message = "Feature flag '{FeatureName}' assigned variant '{Variant}' (value '{Value}') to user '{UserId}', which is not an IsolationMode (Off, Observe, Enforce); the user gets {Mode}.")]
    public static partial void UnknownVariant(ILogger logger, string featureName, string variant, string? value, string userId, IsolationMode mode);
}
