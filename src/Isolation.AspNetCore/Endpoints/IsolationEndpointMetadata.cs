namespace Isolation.AspNetCore.Endpoints;

/// <summary>Endpoint metadata: the endpoint runs each request in its own isolation scope (<c>.WithIsolation()</c>).</summary>
internal sealed class IsolationEndpointMetadata
{
    public static readonly IsolationEndpointMetadata Instance = new();

    private IsolationEndpointMetadata()
    {
    }
}
