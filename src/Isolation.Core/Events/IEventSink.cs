namespace Isolation;

/// <summary>
/// One connection of one user that agent events are delivered to, registered with <see cref="IConnectionRegistry"/>.
/// <see cref="WebSocketEventSink"/> is the built-in one; implement this for another transport (server-sent events, SignalR).
/// </summary>
/// <remarks>
/// <see cref="TryWrite"/> is called concurrently from the threads of many runs: it must not block, wait for I/O or throw,
/// and it must refuse an envelope whose <see cref="EventEnvelope.UserId"/> is not <see cref="UserId"/>.
/// </remarks>
public interface IEventSink
{
    /// <summary>Gets the user who owns the connection; the sink only accepts that user's events.</summary>
    string UserId { get; }

    /// <summary>Gets the connection's identifier, unique among the user's connections.</summary>
    string ConnectionId { get; }

    /// <summary>Queues an envelope for delivery without waiting.</summary>
    /// <param name="envelope">The envelope.</param>
    /// <returns><see langword="true"/> when the envelope was queued (not proof of delivery); <see langword="false"/> when it was refused or dropped.</returns>
    bool TryWrite(EventEnvelope envelope);
}
