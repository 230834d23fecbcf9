using Microsoft.Extensions.Logging;

namespace Isolation.Diagnostics;

/// <content>Session log messages, event ids 1100-1199.</content>
internal static partial class Log
{
    [LoggerMessage(EventId = 1101, EventName = "SessionPoolExhausted", Level = LogLevel.Warning,
        Message = "Session pool {Pool} is exhausted: {Held} of {MaxSessions} sessions held, none returned within {WaitSeconds} s; opening a session for {Context} failed.")]
    public static partial void SessionPoolExhausted(ILogger logger, string pool, int held, int maxSessions, double waitSeconds, string context);

    [LoggerMessage(EventId = 1102, EventName = "SessionCloseFailed", Level = LogLevel.Error,
        Message = "Closing a {SessionType} session of {Context} failed; its slot went back to the pool anyway.")]
    public static partial void SessionCloseFailed(ILogger logger, Exception exception, string sessionType, string context);
}
