using Microsoft.Extensions.Logging;

namespace Isolation.Diagnostics;

/// <summary>Source-generated log messages. Event ids are stable and documented in <c>docs/observability.md</c>.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, EventName = "IsolationViolation", Level = LogLevel.Error,
        Message = "Isolation violation {Kind} on {ResourceType}: {Details}")]
    public static partial void Violation(ILogger logger, string kind, string resourceType, string details);

    [LoggerMessage(EventId = 1002, EventName = "IsolationLeak", Level = LogLevel.Error,
        Message = "Isolation leak {Kind} of {ResourceType}: {Details}{CreationStackTrace}")]
    public static partial void Leak(ILogger logger, string kind, string resourceType, string details, string creationStackTrace);

    [LoggerMessage(EventId = 1003, EventName = "ResourceReleaseFailed", Level = LogLevel.Error,
        Message = "Releasing {ResourceType} at the end of the scope of {Context} failed; the remaining resources were still released.")]
    public static partial void ResourceReleaseFailed(ILogger logger, Exception exception, string resourceType, string context);

    [LoggerMessage(EventId = 1004, EventName = "MonitorHandlerFailed", Level = LogLevel.Warning,
        Message = "A handler of IsolationMonitor.{EventName} threw; the violation was still logged and counted.")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string eventName);

    [LoggerMessage(EventId = 1005, EventName = "LeakTrackingSaturated", Level = LogLevel.Warning,
        Message = "Leak tracking holds {Count} agents waiting for a retention check; newer agents are not tracked until some are checked. Lower the leak detection level or sampling rate.")]
    public static partial void LeakTrackingSaturated(ILogger logger, int count);
}
