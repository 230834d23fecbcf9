using System.Net.WebSockets;
using Isolation.Redis.Internal;

namespace Isolation.Redis;

/// <summary>
/// The <see cref="IConnectionRegistry"/> of a node of a multi-node deployment, registered by <c>AddRedisEventDelivery</c>
/// in place of the default: connections are registered in this node's <see cref="ConnectionRegistry"/> (and announced in
/// Redis as this node's presence), and an event is delivered to the user's connections here through that registry and sent
/// through Redis only to the other nodes that hold connections of the same user, which deliver it through their own.
/// </summary>
/// <remarks>
/// <see cref="Publish"/> never waits for Redis: remote sending happens in the background, in order per user. Its result
/// counts this node's connections only; what other nodes deliver or drop is counted there.
/// </remarks>
public sealed class RedisConnectionRegistry : IConnectionRegistry
{
    private readonly ConnectionRegistry _local;
    private readonly RedisBackplane _backplane;

    internal RedisConnectionRegistry(ConnectionRegistry local, RedisBackplane backplane)
    {
        _local = local;
        _backplane = backplane;
    }

    /// <summary>Gets this node's identifier (<see cref="RedisEventDeliveryOptions.NodeId"/>, or the one generated for this process).</summary>
    public string NodeId => _backplane.NodeId;

    /// <summary>Gets whether events can reach other nodes right now: connected to Redis and subscribed to this node's channel.</summary>
    public bool IsBackplaneAvailable => _backplane.IsAvailable;

    /// <summary>Gets how many connections are registered on this node, all users together.</summary>
    public int ConnectionCount => _local.ConnectionCount;

    /// <summary>Returns how many connections <paramref name="userId"/> has on this node.</summary>
    /// <param name="userId">The user.</param>
    /// <returns>The number of the user's connections on this node; 0 for an unknown user.</returns>
    public int GetConnectionCount(string userId) => _local.GetConnectionCount(userId);

    /// <inheritdoc />
    public IDisposable Register(IEventSink sink)
    {
        var registration = _local.Register(sink);
        _backplane.OnLocalConnection(sink.UserId);
        return registration;
    }

    /// <inheritdoc />
    public WebSocketEventSink RegisterWebSocket(WebSocket webSocket, string userId, string connectionId, CancellationToken connectionAborted = default)
    {
        var sink = _local.RegisterWebSocket(webSocket, userId, connectionId, connectionAborted);
        _backplane.OnLocalConnection(userId);
        return sink;
    }

    /// <summary>
    /// Delivers an envelope to the user's connections on this node and queues it for the other nodes that hold connections
    /// of the same user. Never waits and never throws because a connection or Redis failed; what is not delivered is counted
    /// on <c>isolation.events.dropped</c> (see <see cref="RedisDropReasons"/>).
    /// </summary>
    /// <param name="envelope">The envelope, stamped by a scope's emitter.</param>
    /// <returns>How many of this node's connections took it, and how many refused it as another user's event.</returns>
    public EventDeliveryResult Publish(EventEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);

        // The common case, a user whose connections are all here: the single-node path, nothing queued for Redis. (A user
        // who has no connection left here counts as no_connection, as on one node: no other node had one either.)
        if (_backplane.IsLocalOnly(envelope.UserId))
        {
            return _local.Publish(envelope);
        }

        var result = default(EventDeliveryResult);
        var hasLocal = _local.GetConnectionCount(envelope.UserId) > 0;
        if (hasLocal)
        {
            result = _local.Publish(envelope);
        }

        _backplane.Forward(envelope, hasLocal);
        return result;
    }
}
