using Microsoft.Extensions.Logging;

namespace Isolation.Diagnostics;

/// <content>Runner log messages, event ids 1300–1399.</content>
internal static partial class Log
{
    [LoggerMessage(EventId = 1301, EventName = "RunFailed", Level = LogLevel.Error,
        Message = "The run of {Context} failed; the user was sent agent_failed with the configured safe message.")]
    public static partial void RunFailed(ILogger logger, Exception? exception, string context);

    [LoggerMessage(EventId = 1302, EventName = "RunAborted", Level = LogLevel.Warning,
        Message = "The run of {Context} ended as {Status} after {DurationMs:0.#} ms.")]
    public static partial void RunAborted(ILogger logger, string status, string context, double durationMs);

    [LoggerMessage(EventId = 1303, EventName = "AbandonedWorkStillRunning", Level = LogLevel.Error,
        Message = "Work of the timed-out run of {Context} ignored cancellation and is still running {Seconds:0.#} s later; its scope was disposed anyway so its sessions return to their pools. Pass the CancellationToken to everything the work awaits.")]
    public static partial void AbandonedWorkStillRunning(ILogger logger, string context, double seconds);

    [LoggerMessage(EventId = 1304, EventName = "AbandonedWorkFailed", Level = LogLevel.Warning,
        Message = "Work of the abandoned run of {Context} threw after the run had ended.")]
    public static partial void AbandonedWorkFailed(ILogger logger, Exception exception, string context);

    [LoggerMessage(EventId = 1305, EventName = "RunEventFailed", Level = LogLevel.Error,
        Message = "Sending the start or terminal event of the run of {Context} failed; the run itself was not affected.")]
    public static partial void TerminalEventFailed(ILogger logger, Exception exception, string context);
}
