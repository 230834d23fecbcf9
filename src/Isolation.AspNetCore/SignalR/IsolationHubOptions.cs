namespace Isolation.AspNetCore.SignalR;

/// <summary>
/// Options of the SignalR integration added by <c>services.AddSignalR().AddIsolation()</c>: the client method that agent
/// events arrive on, the deadline of an invocation's scope, and whether connections receive events. The per-connection
/// queue (capacity, full mode, send timeout) comes from <see cref="EventDeliveryOptions"/>, like a WebSocket's.
/// </summary>
public sealed class IsolationHubOptions
{
    /// <summary>The default client method agent events are sent to: <c>isolation</c>.</summary>
    public const string DefaultClientMethod = "isolation";

    /// <summary>
    /// Gets or sets the client method every agent event is sent to, with the <see cref="EventEnvelope"/> as its only
    /// argument (<c>connection.On&lt;EventEnvelope&gt;("isolation", …)</c> on the client).
    /// </summary>
    /// <value>The default value is <c>isolation</c>.</value>
    public string ClientMethod { get; set; } = DefaultClientMethod;

    /// <summary>
    /// Gets or sets the deadline of the scope opened for each hub method invocation; <see langword="null"/> takes
    /// <see cref="IsolationOptions.DefaultDeadline"/>. A streaming method's scope lives until its stream ends, so the
    /// deadline bounds the whole stream.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public TimeSpan? InvocationDeadline { get; set; }

    /// <summary>
    /// Gets or sets whether each connection of an authenticated user is registered in <see cref="IConnectionRegistry"/>
    /// when it connects (and removed when it disconnects), so it receives that user's agent events.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool RegisterConnections { get; set; } = true;
}
