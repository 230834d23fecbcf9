using System.Net.WebSockets;

namespace Isolation;

/// <summary>
/// The connections that receive agent events, indexed by user: an event is delivered to the connections of its own user
/// only, at a cost proportional to that user's connections (never a scan of all connections). Registered by
/// <c>services.AddIsolation()</c> as a singleton.
/// </summary>
/// <remarks>
/// Every scope's emitter delivers through the <see cref="IConnectionRegistry"/> registered in DI. Add transports with
/// <see cref="Register"/>; to deliver elsewhere too (another node), register a registry of your own in this service's
/// place, typically one that decorates the default and calls its <see cref="Publish"/> for local connections.
/// </remarks>
/// <example>
/// <code>
/// app.Map("/chat", async (HttpContext http, IConnectionRegistry registry) =>
/// {
///     using var socket = await http.WebSockets.AcceptWebSocketAsync();
///     await using var events = registry.RegisterWebSocket(socket, userId, http.Connection.Id, http.RequestAborted);
///     await ReceiveMessagesAsync(socket, http.RequestAborted); // start runs; their events reach this user's sockets
/// });
/// </code>
/// </example>
public interface IConnectionRegistry
{
    /// <summary>Gets how many connections are registered, all users together.</summary>
    int ConnectionCount { get; }

    /// <summary>Returns how many connections <paramref name="userId"/> has registered.</summary>
    /// <param name="userId">The user.</param>
    /// <returns>The number of the user's connections; 0 for an unknown user.</returns>
    int GetConnectionCount(string userId);

    /// <summary>
    /// Registers a connection of <see cref="IEventSink.UserId"/>. It receives that user's events until the returned
    /// registration is disposed; dispose it when the connection ends.
    /// </summary>
    /// <param name="sink">The connection's sink.</param>
    /// <returns>The registration; disposing it removes the connection (idempotent).</returns>
    /// <exception cref="ArgumentException">The sink's user or connection id is empty, or the user already has a connection with that id.</exception>
    /// <exception cref="InvalidOperationException">The user already has <see cref="EventDeliveryOptions.MaxConnectionsPerUser"/> connections (counted on <c>isolation.connections.refused</c>).</exception>
    IDisposable Register(IEventSink sink);

    /// <summary>
    /// Delivers an envelope to every connection of <see cref="EventEnvelope.UserId"/> and to nobody else's. Never waits
    /// and never throws because a connection failed; what is not delivered is counted on <c>isolation.events.dropped</c>.
    /// </summary>
    /// <param name="envelope">The envelope, stamped by a scope's emitter (or rebuilt by a transport that carried one).</param>
    /// <returns>How many connections took it, and how many refused it as another user's event.</returns>
    EventDeliveryResult Publish(EventEnvelope envelope);

    /// <summary>
    /// Registers an open WebSocket of <paramref name="userId"/> and starts its writer: a bounded queue per connection (see
    /// <see cref="EventDeliveryOptions"/>) and one send in flight. The connection is removed when the returned sink is
    /// disposed, when <paramref name="connectionAborted"/> is cancelled, when a send fails or times out, or when the queue
    /// overflows with <see cref="EventQueueFullMode.CloseConnection"/>. The caller keeps reading the socket and closes it.
    /// When the user already has <see cref="EventDeliveryOptions.MaxConnectionsPerUser"/> connections, the connection is
    /// refused: the returned sink is not registered and closes the socket with status 1008 (policy violation) and a reason
    /// that names the limit, so the caller's read loop sees the close; the refusal is logged and counted on
    /// <c>isolation.connections.refused</c>.
    /// </summary>
    /// <param name="webSocket">An open WebSocket, e.g. from <c>HttpContext.WebSockets.AcceptWebSocketAsync()</c>.</param>
    /// <param name="userId">The authenticated user who owns the connection.</param>
    /// <param name="connectionId">The connection's identifier, unique among the user's connections.</param>
    /// <param name="connectionAborted">Cancelled when the connection is gone, e.g. <c>HttpContext.RequestAborted</c>.</param>
    /// <returns>The registered sink; dispose it when the connection ends.</returns>
    /// <exception cref="ArgumentException">An identifier is empty, or the user already has a connection with that id.</exception>
    /// <exception cref="InvalidOperationException">The WebSocket is not open.</exception>
    WebSocketEventSink RegisterWebSocket(WebSocket webSocket, string userId, string connectionId, CancellationToken connectionAborted = default);

    /// <summary>
    /// Sends one event to one connection of this process, without a scope: what a connection handler tells the connection
    /// itself (that it is registered, that a message it sent was malformed). See <see cref="ConnectionRegistry.SendToConnection"/>
    /// for the stamping, the owner check and what is counted; a registry that decorates <see cref="ConnectionRegistry"/>
    /// passes the call on to it, since the connection is a socket this process holds.
    /// </summary>
    /// <remarks>
    /// The default implementation, for registries written before this member existed, throws
    /// <see cref="NotSupportedException"/>: implement it (usually by calling the local <see cref="ConnectionRegistry"/>), or
    /// call <see cref="ConnectionRegistry.SendToConnection"/> on the local registry, which <c>AddIsolation</c> always registers.
    /// </remarks>
    /// <param name="userId">The user who owns the connection (the authenticated user of the connection handler).</param>
    /// <param name="connectionId">The connection, as registered.</param>
    /// <param name="type">The event type, e.g. <c>ready</c>.</param>
    /// <param name="payload">The payload, serialized as JSON with its runtime type; may be <see langword="null"/>.</param>
    /// <param name="runId">The run the event is about, if any.</param>
    /// <returns>1 delivered when the connection queued it; 1 refused when it was refused as another user's event.</returns>
    /// <exception cref="ArgumentException">An identifier or the type is null, empty or white space.</exception>
    /// <exception cref="NotSupportedException">The registry does not implement this member (the default implementation).</exception>
    EventDeliveryResult SendToConnection(string userId, string connectionId, string type, object? payload, string? runId = null) =>
        throw new NotSupportedException(
            $"{GetType().FullName} does not implement IConnectionRegistry.SendToConnection. Implement it (a registry that decorates ConnectionRegistry passes the call on to it), or call SendToConnection on the local ConnectionRegistry, which AddIsolation always registers.");
}
