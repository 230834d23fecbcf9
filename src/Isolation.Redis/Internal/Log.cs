using Microsoft.Extensions.Logging;

namespace Isolation.Redis.Internal;

/// <summary>The package's log messages (event ids 2001–2099).</summary>
internal static partial class Log
{
    [LoggerMessage(2001, LogLevel.Information, "Redis event delivery started: node {NodeId}, channel {Channel}.")]
    public static partial void Started(ILogger logger, string nodeId, string channel);

    [LoggerMessage(2002, LogLevel.Warning, "Redis is unavailable ({FailureType} on {Endpoint}): events for connections on other nodes are dropped and counted as backplane_unavailable until it returns; local delivery continues.")]
    public static partial void Unavailable(ILogger logger, Exception? exception, string failureType, string endpoint);

    [LoggerMessage(2003, LogLevel.Information, "Redis is available again ({Endpoint}): presence is being rewritten and remote delivery resumes.")]
    public static partial void Restored(ILogger logger, string endpoint);

    [LoggerMessage(2004, LogLevel.Warning, "Refused a message on channel {Channel}: {Reason}. It was not delivered; check that every node of the deployment shares the signing key and that nothing else publishes to this channel.")]
    public static partial void Refused(ILogger logger, string channel, string reason);

    [LoggerMessage(2005, LogLevel.Debug, "{Missed} message(s) from node {From} never arrived on this node (its counter jumped to {Counter}).")]
    public static partial void Gap(ILogger logger, long missed, string from, long counter);

    [LoggerMessage(2006, LogLevel.Warning, "Sending an event to node {Target} through Redis failed; it was dropped and counted.")]
    public static partial void SendFailed(ILogger logger, Exception exception, string target);

    [LoggerMessage(2007, LogLevel.Warning, "Refreshing this node's presence in Redis failed; it is retried at the next interval.")]
    public static partial void PresenceFailed(ILogger logger, Exception exception);

    [LoggerMessage(2008, LogLevel.Warning, "Subscribing to this node's channel {Channel} failed; it is retried at the next presence refresh.")]
    public static partial void SubscribeFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(2009, LogLevel.Warning, "Redis event delivery could not connect at start; it keeps trying in the background, and remote events are dropped and counted until it connects.")]
    public static partial void ConnectFailed(ILogger logger, Exception exception);

    [LoggerMessage(2010, LogLevel.Warning, "Receiving a message from Redis failed unexpectedly; the message was dropped.")]
    public static partial void ReceiveFailed(ILogger logger, Exception exception);
}
