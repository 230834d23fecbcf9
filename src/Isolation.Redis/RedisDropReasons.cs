namespace Isolation.Redis;

/// <summary>
/// The <c>reason</c> tag values this package adds to <c>isolation.events.dropped</c>; documented in <c>docs/multi-node.md</c>.
/// </summary>
public static class RedisDropReasons
{
    /// <summary>Redis was unreachable when the event had to go to another node; the event was not sent.</summary>
    public const string BackplaneUnavailable = "backplane_unavailable";

    /// <summary>The outbound queue to Redis was full (see <see cref="RedisEventDeliveryOptions.OutboundQueueCapacity"/>).</summary>
    public const string BackplaneQueueFull = "backplane_queue_full";

    /// <summary>A message arrived whose signature matched neither the signing key nor a previous key; it was refused.</summary>
    public const string BackplaneForged = "backplane_forged";

    /// <summary>A correctly signed message arrived a second time (same sender and counter); it was refused.</summary>
    public const string BackplaneReplayed = "backplane_replayed";

    /// <summary>A correctly signed message was older (or further in the future) than <see cref="RedisEventDeliveryOptions.MaxMessageAge"/>; it was refused.</summary>
    public const string BackplaneStale = "backplane_stale";

    /// <summary>A correctly signed message addressed to another node arrived on this node's channel; it was refused.</summary>
    public const string BackplaneMisaddressed = "backplane_misaddressed";

    /// <summary>A message was not in this package's format (wrong version, truncated, or its envelope was invalid); it was refused.</summary>
    public const string BackplaneMalformed = "backplane_malformed";

    /// <summary>Core's reason, also used here: no node (this one or another) had a connection of the event's user.</summary>
    public const string NoConnection = "no_connection";

    /// <summary>Core's reason, also used here: the payload could not be serialized to cross to another node.</summary>
    public const string SerializationFailed = "serialization_failed";
}
