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
/// counts this node's connections only; what other nodes deliver or drop is counted there. <see cref="Register"/> and
/// <see cref="RegisterWebSocket"/> do wait, while Redis is connected, for the connection's presence record to be written
/// and the other nodes to be notified (one round trip): once they return, every other node's next presence lookup of the
/// user finds this node, and each other node drops the answer it held for the user when the notice arrives.
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
        // (TryPublish checks the envelope for null.) One lookup in the local registry delivers to the user's connections here and reads this node's last presence
        // answer for the user, kept on the same entry. The common case, a user whose connections are all here, ends here:
        // the single-node path, nothing queued for Redis.
        if (_local.TryPublish(envelope, _backplane.PresenceSlot, out var result, out var presence))
        {
            if (!_backplane.IsLocalOnly(envelope.UserId, presence))
            {
                _backplane.Forward(envelope, deliveredLocally: true);
            }

            return result;
        }

        // No connection here. A user whom the last lookup found on no other node either counts as no_connection, as on
        // one node; otherwise the event goes to the nodes that hold the user's connections.
        if (_backplane.IsLocalOnly(envelope.UserId, attached: null))
        {
            _local.ReportDropped(RedisDropReasons.NoConnection, envelope);
            return default;
        }

        _backplane.Forward(envelope, deliveredLocally: false);
        return default;
    }

    /// <summary>
    /// Sends one event to one connection of this node, without a scope, through the local
    /// <see cref="ConnectionRegistry.SendToConnection"/>: the connection is a socket this process holds, so nothing goes
    /// through Redis. The owner check and counting are the local registry's.
    /// </summary>
    /// <param name="userId">The user who owns the connection.</param>
    /// <param name="connectionId">The connection, as registered on this node.</param>
    /// <param name="type">The event type, e.g. <c>ready</c>.</param>
    /// <param name="payload">The payload; may be <see langword="null"/>.</param>
    /// <param name="runId">The run the event is about, if any.</param>
    /// <returns>1 delivered when the connection queued it; 1 refused when it was refused as another user's event.</returns>
    /// <exception cref="ArgumentException">An identifier or the type is null, empty or white space.</exception>
    public EventDeliveryResult SendToConnection(string userId, string connectionId, string type, object? payload, string? runId = null) =>
        _local.SendToConnection(userId, connectionId, type, payload, runId);
}
