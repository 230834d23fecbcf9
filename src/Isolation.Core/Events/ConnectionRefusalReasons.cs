namespace Isolation;

/// <summary>Values of the <c>reason</c> tag of <c>isolation.connections.refused</c>. Documented in <c>docs/events.md</c>.</summary>
internal static class ConnectionRefusalReasons
{
    /// <summary>The user already had <see cref="EventDeliveryOptions.MaxConnectionsPerUser"/> connections registered.</summary>
    public const string ConnectionLimit = "connection_limit";
}
