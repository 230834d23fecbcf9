namespace Isolation.Diagnostics;

/// <summary>Present in DI when the health check is registered: the monitor then keeps recent agent creation times.</summary>
internal sealed class IsolationHealthCheckMarker
{
}
