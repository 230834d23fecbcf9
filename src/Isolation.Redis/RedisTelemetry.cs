namespace Isolation.Redis;

/// <summary>Names of the meter and instruments this package publishes. See <c>docs/multi-node.md</c>.</summary>
public static class RedisTelemetry
{
    /// <summary>The name of the meter: <c>Isolation.Redis</c>.</summary>
    public const string MeterName = "Isolation.Redis";

    /// <summary>Messages this node published to other nodes' channels, one per target node (counter).</summary>
    public const string MessagesSent = "isolation.redis.messages.sent";

    /// <summary>Messages this node accepted from other nodes and handed to its local registry (counter).</summary>
    public const string MessagesReceived = "isolation.redis.messages.received";

    /// <summary>Messages from another node that never arrived here, seen as a jump in that node's counter (counter).</summary>
    public const string MessageGaps = "isolation.redis.gaps";
}
