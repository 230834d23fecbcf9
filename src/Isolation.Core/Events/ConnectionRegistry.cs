using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Isolation.Diagnostics;
using Isolation.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Isolation;

/// <summary>
/// The connections of this process: the default <see cref="IConnectionRegistry"/>, always registered by
/// <c>services.AddIsolation()</c> and resolvable as itself. A registry that routes events to other processes (another
/// node of the deployment) replaces <see cref="IConnectionRegistry"/> and delivers to local connections through this one.
/// </summary>
/// <remarks>
/// A dictionary from user id to that user's sinks (an immutable array, replaced under a per-user lock), so delivery reads
/// one array without locking and touches nobody else's connections. A decorating registry keeps its own per-user state on
/// the same entry (<see cref="CreateUserStateSlot{TState}"/>) and delivers with <see cref="TryPublish{TState}"/>, so that a
/// local delivery through it still costs one lookup.
/// </remarks>
public sealed class ConnectionRegistry : IConnectionRegistry
{
    /// <summary>How many <see cref="UserStateSlot{TState}"/>s one registry hands out.</summary>
    internal const int MaxUserStateSlots = 16;

    private readonly ConcurrentDictionary<string, UserConnections> _users = new(StringComparer.Ordinal);

    // How many users have a connection of each id (ids are unique per user only): lets SendToConnection tell a connection
    // of another user (refused as an event leak) from one that is gone, without a scan. Touched on (un)registration only.
    private readonly ConcurrentDictionary<string, int> _connectionIds = new(StringComparer.Ordinal);
    private int _connectionCount;
    private int _slotCount;

    internal ConnectionRegistry(EventMetrics metrics, IOptions<EventDeliveryOptions> options, TimeProvider timeProvider)
    {
        Metrics = metrics;
        Options = options.Value;
        TimeProvider = timeProvider;
        EnvelopeTypeInfo = CreateEnvelopeTypeInfo(Options.PayloadTypeInfoResolver);
    }

    /// <inheritdoc />
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    internal EventMetrics Metrics { get; }

    internal EventDeliveryOptions Options { get; }

    internal TimeProvider TimeProvider { get; }

    internal JsonTypeInfo<EventEnvelope> EnvelopeTypeInfo { get; }

    /// <summary>Gets how many users have at least one connection.</summary>
    internal int UserCount => _users.Count;

    /// <inheritdoc />
    public int GetConnectionCount(string userId)
    {
        Guard.NotNull(userId);
        return _users.TryGetValue(userId, out var connections) ? Volatile.Read(ref connections.Sinks).Length : 0;
    }

    /// <inheritdoc />
    public IDisposable Register(IEventSink sink)
    {
        Guard.NotNull(sink);
        var userId = sink.UserId;
        var connectionId = sink.ConnectionId;
        ValidateId(userId, nameof(IEventSink.UserId));
        ValidateId(connectionId, nameof(IEventSink.ConnectionId));
        if (!TryAdd(userId, connectionId, sink))
        {
            ThrowHelper.ThrowInvalidOperation(Refuse(userId, connectionId));
        }

        return new Registration(this, userId, sink);
    }

    /// <inheritdoc />
    public WebSocketEventSink RegisterWebSocket(WebSocket webSocket, string userId, string connectionId, CancellationToken connectionAborted = default)
    {
        Guard.NotNull(webSocket);
        ValidateId(userId, nameof(userId));
        ValidateId(connectionId, nameof(connectionId));
        if (webSocket.State != WebSocketState.Open)
        {
            ThrowHelper.ThrowInvalidOperation(
                $"The WebSocket of connection {connectionId} of user '{userId}' is {webSocket.State}, not Open: a closed socket cannot receive events. Register the socket right after accepting it.");
        }

        var sink = new WebSocketEventSink(this, webSocket, userId, connectionId);
        if (!TryAdd(userId, connectionId, sink))
        {
            sink.StartRefused(Refuse(userId, connectionId));
            return sink;
        }

        sink.Start(new Registration(this, userId, sink), connectionAborted);
        return sink;
    }

    /// <inheritdoc />
    public EventDeliveryResult Publish(EventEnvelope envelope)
    {
        Guard.NotNull(envelope);
        if (!_users.TryGetValue(envelope.UserId, out var connections))
        {
            Metrics.Dropped(EventDropReasons.NoConnection, envelope);
            return default;
        }

        var sinks = Volatile.Read(ref connections.Sinks);
        if (sinks.Length == 0)
        {
            Metrics.Dropped(EventDropReasons.NoConnection, envelope);
            return default;
        }

        return Deliver(sinks, envelope);
    }

    /// <summary>
    /// Creates a per-user slot for a registry that decorates this one: state it keeps on each user's entry here, read in
    /// the same lookup as the user's connections by <see cref="TryPublish{TState}"/>, so that a decorated local delivery
    /// costs one dictionary lookup, as an undecorated one. Create it once (e.g. in the decorator's constructor) and keep it.
    /// </summary>
    /// <typeparam name="TState">The state kept per user.</typeparam>
    /// <returns>A new slot, empty for every user.</returns>
    /// <exception cref="InvalidOperationException">This registry already has 16 slots: a slot is meant to be created once per decorating registry, not per call.</exception>
    public UserStateSlot<TState> CreateUserStateSlot<TState>()
        where TState : class
    {
        var index = Interlocked.Increment(ref _slotCount) - 1;
        if (index >= MaxUserStateSlots)
        {
            Interlocked.Decrement(ref _slotCount);
            ThrowHelper.ThrowInvalidOperation(
                $"A ConnectionRegistry has at most {MaxUserStateSlots} user state slots. Create a slot once per decorating registry (e.g. in its constructor) and keep it, instead of creating one per call.");
        }

        return new UserStateSlot<TState>(this, index);
    }

    /// <summary>
    /// Delivers an envelope to the user's connections of this process, like <see cref="Publish"/>, and reads
    /// <paramref name="slot"/>'s state of that user in the same lookup. When the user has no connection here, nothing is
    /// delivered and, unlike <see cref="Publish"/>, nothing is counted: the caller decides (deliver elsewhere, or count the
    /// drop with <see cref="ReportDropped"/>).
    /// </summary>
    /// <remarks>The owner checks, drop counting and ordering are those of <see cref="Publish"/>; only the no-connection case differs.</remarks>
    /// <typeparam name="TState">The slot's state type.</typeparam>
    /// <param name="envelope">The envelope.</param>
    /// <param name="slot">A slot created by this registry's <see cref="CreateUserStateSlot{TState}"/>.</param>
    /// <param name="result">How many of this process's connections took the envelope, and how many refused it as another user's event.</param>
    /// <param name="state">The user's state in <paramref name="slot"/>; <see langword="null"/> when none was set or the user has no connection here.</param>
    /// <returns><see langword="true"/> when the user has connections here and the envelope was handed to them; <see langword="false"/> when the user has none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="envelope"/> or <paramref name="slot"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="slot"/> was created by another registry.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the decorator's Publish: one call frame, as without it
    public bool TryPublish<TState>(EventEnvelope envelope, UserStateSlot<TState> slot, out EventDeliveryResult result, out TState? state)
        where TState : class
    {
        // Plain checks rather than Guard's: this method is shared generic code, where a call to a generic helper costs a
        // runtime lookup on every delivery.
        if (envelope is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(envelope));
        }

        if (slot is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(slot));
        }

        if (!ReferenceEquals(slot.Registry, this))
        {
            ThrowHelper.ThrowArgument(
                "The user state slot was created by another ConnectionRegistry. Create the slot with CreateUserStateSlot on the registry you deliver through.",
                nameof(slot));
        }

        if (!_users.TryGetValue(envelope.UserId, out var connections))
        {
            result = default;
            state = null;
            return false;
        }

        var sinks = Volatile.Read(ref connections.Sinks);
        if (sinks.Length == 0)
        {
            result = default;
            state = null;
            return false;
        }

        var states = Volatile.Read(ref connections.States);
        var index = slot.Index;

        // Only UserStateSlot<TState>.TrySet writes this index, always with a TState: no type check needed.
        state = states is not null && (uint)index < (uint)states.Length ? Unsafe.As<TState>(Volatile.Read(ref states[index])) : null;
        result = Deliver(sinks, envelope);
        return true;
    }

    internal bool TrySetUserState(string userId, int index, object? state)
    {
        while (_users.TryGetValue(userId, out var connections))
        {
            lock (connections)
            {
                if (connections.Retired)
                {
                    continue; // Its last connection left meanwhile: a new entry may have taken its place.
                }

                var states = connections.States;
                if (states is null || states.Length <= index)
                {
                    var grown = new object?[Math.Max(index + 1, Volatile.Read(ref _slotCount))];
                    states?.CopyTo(grown, 0);
                    grown[index] = state;
                    Volatile.Write(ref connections.States, grown);
                }
                else
                {
                    Volatile.Write(ref states[index], state);
                }

                return true;
            }
        }

        return false;
    }

    internal bool TryGetUserState(string userId, int index, out object? state)
    {
        if (_users.TryGetValue(userId, out var connections) && Volatile.Read(ref connections.Sinks).Length != 0)
        {
            var states = Volatile.Read(ref connections.States);
            state = states is not null && (uint)index < (uint)states.Length ? Volatile.Read(ref states[index]) : null;
            return true;
        }

        state = null;
        return false;
    }

    private EventDeliveryResult Deliver(IEventSink[] sinks, EventEnvelope envelope)
    {
        var delivered = 0;
        var leaks = 0;
        foreach (var sink in sinks)
        {
            if (sink is WebSocketEventSink webSocketSink)
            {
                // Checks the owner and counts its own drops with the precise reason. Its owner cannot change, and the
                // registry filed it under that owner, so through here it never refuses a leak.
                if (webSocketSink.TryWrite(envelope))
                {
                    delivered++;
                }
            }
            else if (WriteCustom(sink, envelope, ref leaks))
            {
                delivered++;
            }
        }

        return new EventDeliveryResult(delivered, leaks);
    }

    /// <summary>
    /// Sends one event to one connection of this process, without a scope: for what a connection handler tells the
    /// connection itself (that it is registered, that a message it sent was malformed), which is no run of work, so it
    /// neither opens a scope nor counts in the isolation score. The envelope is stamped here: <paramref name="userId"/>,
    /// <paramref name="connectionId"/>, <paramref name="runId"/> (a new id when <see langword="null"/>), sequence 0 (it
    /// belongs to no run's sequence) and the time from the registered <see cref="System.TimeProvider"/>.
    /// </summary>
    /// <remarks>
    /// The owner check applies as for every event: when <paramref name="connectionId"/> is registered, but not by
    /// <paramref name="userId"/>, the event is refused, reported as <see cref="ViolationKind.EventLeak"/> and counted on
    /// <c>isolation.events.dropped</c> (<c>event_leak</c>); a custom sink whose <see cref="IEventSink.UserId"/> is no longer
    /// <paramref name="userId"/> refuses it the same way. A connection id that nobody has registered (the connection is
    /// gone) drops it as <c>no_connection</c>. Never waits and never throws because the connection failed.
    /// </remarks>
    /// <param name="userId">The user who owns the connection (the authenticated user of the connection handler).</param>
    /// <param name="connectionId">The connection, as registered.</param>
    /// <param name="type">The event type, e.g. <c>ready</c>.</param>
    /// <param name="payload">The payload, serialized as JSON with its runtime type; may be <see langword="null"/>.</param>
    /// <param name="runId">The run the event is about, if any (e.g. a run id the client sent twice).</param>
    /// <returns>1 delivered when the connection queued it; 1 refused when it was refused as another user's event.</returns>
    /// <exception cref="ArgumentException">An identifier or the type is null, empty or white space.</exception>
    /// <example>
    /// <code>
    /// var sink = registry.RegisterWebSocket(socket, userId, connectionId, http.RequestAborted);
    /// connections.SendToConnection(userId, connectionId, "ready", new { userId, connectionId });
    /// </code>
    /// </example>
    public EventDeliveryResult SendToConnection(string userId, string connectionId, string type, object? payload, string? runId = null)
    {
        ValidateId(userId, nameof(userId));
        ValidateId(connectionId, nameof(connectionId));
        if (string.IsNullOrWhiteSpace(type))
        {
            ThrowHelper.ThrowArgument(
                "An event type must not be null, empty or white space. Use an application-defined name such as 'ready' or one of AgentEventTypes.",
                nameof(type));
        }

        if (runId is not null && string.IsNullOrWhiteSpace(runId))
        {
            ThrowHelper.ThrowArgument("A run id must not be empty or white space; pass null when the event is about no run.", nameof(runId));
        }

        var envelope = new EventEnvelope(userId, connectionId, runId ?? RunIds.New(), 0, TimeProvider.GetUtcNow(), type, payload, trusted: true);
        IEventSink? target = null;
        if (_users.TryGetValue(userId, out var connections))
        {
            foreach (var sink in Volatile.Read(ref connections.Sinks))
            {
                if (string.Equals(sink.ConnectionId, connectionId, StringComparison.Ordinal))
                {
                    target = sink;
                    break;
                }
            }
        }

        if (target is null)
        {
            if (_connectionIds.ContainsKey(connectionId))
            {
                // Registered, by somebody else: the caller named another user's connection.
                Metrics.RefuseLeakToConnection(envelope, connectionId);
                return new EventDeliveryResult(0, 1);
            }

            Metrics.Dropped(EventDropReasons.NoConnection, envelope);
            return default;
        }

        var leaks = 0;
        var delivered = target is WebSocketEventSink webSocketSink ? webSocketSink.TryWrite(envelope) : WriteCustom(target, envelope, ref leaks);
        return new EventDeliveryResult(delivered ? 1 : 0, leaks);
    }

    /// <summary>
    /// Counts events that a transport carrying envelopes for this registry (e.g. to another node) did not deliver, on
    /// <c>isolation.events.dropped</c> with <paramref name="reason"/> as the <c>reason</c> tag, and logs them at debug level
    /// like every other drop.
    /// </summary>
    /// <param name="reason">The drop reason, a short lowercase snake_case name documented by the transport (e.g. <c>backplane_unavailable</c>).</param>
    /// <param name="envelope">The envelope that was dropped, or <see langword="null"/> when there is none to trust (e.g. a forged message).</param>
    /// <param name="count">How many events were dropped; 1 or more.</param>
    /// <exception cref="ArgumentException"><paramref name="reason"/> is empty, or <paramref name="count"/> is less than 1.</exception>
    public void ReportDropped(string reason, EventEnvelope? envelope, long count = 1)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            ThrowHelper.ThrowArgument(
                "A drop reason must not be null, empty or white space: it becomes the 'reason' tag of isolation.events.dropped. Pass a documented snake_case name such as 'backplane_unavailable'.",
                nameof(reason));
        }

        if (count < 1)
        {
            ThrowHelper.ThrowArgument(
                $"The number of dropped events must be 1 or more; got {count.ToString(System.Globalization.CultureInfo.InvariantCulture)}.",
                nameof(count));
        }

        Metrics.Dropped(reason, envelope, count);
    }

    internal void Remove(string userId, IEventSink sink)
    {
        if (!_users.TryGetValue(userId, out var connections))
        {
            return;
        }

        lock (connections)
        {
            var sinks = connections.Sinks;
            var index = Array.IndexOf(sinks, sink);
            if (index < 0)
            {
                return;
            }

            if (sinks.Length == 1)
            {
                // Retire the user's entry so the dictionary does not grow with every user ever seen.
                Volatile.Write(ref connections.Sinks, []);
                connections.Retired = true;
                _users.TryRemove(new KeyValuePair<string, UserConnections>(userId, connections));
            }
            else
            {
                var copy = new IEventSink[sinks.Length - 1];
                Array.Copy(sinks, 0, copy, 0, index);
                Array.Copy(sinks, index + 1, copy, index, sinks.Length - index - 1);
                Volatile.Write(ref connections.Sinks, copy);
            }
        }

        Interlocked.Decrement(ref _connectionCount);
        ForgetConnectionId(sink.ConnectionId);
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reflection is only used when JsonSerializer.IsReflectionEnabledByDefault is true, which trimmed and AOT applications turn off.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reflection is only used when JsonSerializer.IsReflectionEnabledByDefault is true, which AOT applications turn off.")]
    private static JsonTypeInfo<EventEnvelope> CreateEnvelopeTypeInfo(IJsonTypeInfoResolver? payloadResolver)
    {
        // Order matters: the application's resolver first (its payload types), then ours, then reflection when allowed.
        var resolvers = new List<IJsonTypeInfoResolver>(3);
        if (payloadResolver is not null)
        {
            resolvers.Add(payloadResolver);
        }

        resolvers.Add(EventJsonContext.Default);
        if (JsonSerializer.IsReflectionEnabledByDefault)
        {
            resolvers.Add(new DefaultJsonTypeInfoResolver());
        }

        var options = new JsonSerializerOptions(EventJsonContext.Default.Options)
        {
            TypeInfoResolver = JsonTypeInfoResolver.Combine(resolvers.ToArray()),
        };
        options.MakeReadOnly();
        return (JsonTypeInfo<EventEnvelope>)options.GetTypeInfo(typeof(EventEnvelope));
    }

    private static void ValidateId(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            ThrowHelper.ThrowArgument(
                $"The {name} of an event connection must not be null, empty or white space: events are routed by user and connection. Pass the authenticated user's id and a connection id.",
                name);
        }
    }

    private bool WriteCustom(IEventSink sink, EventEnvelope envelope, ref int leaks)
    {
        try
        {
            // The registry files sinks under their user, but a custom sink may change its mind: check before handing over.
            if (!string.Equals(sink.UserId, envelope.UserId, StringComparison.Ordinal))
            {
                Metrics.RefuseLeak(envelope, sink);
                leaks++;
                return false;
            }

            if (sink.TryWrite(envelope))
            {
                return true;
            }

            Metrics.Dropped(EventDropReasons.SinkRejected, envelope);
            return false;
        }
#pragma warning disable CA1031 // One broken sink must not keep the user's other connections from their events.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SinkFailed(Metrics.Logger, ex, sink.GetType().FullName ?? nameof(IEventSink), sink.ConnectionId);
            Metrics.Dropped(EventDropReasons.SendFailed, envelope);
            return false;
        }
    }

    /// <summary>Counts and logs a registration refused by <see cref="EventDeliveryOptions.MaxConnectionsPerUser"/>; returns the reason to show.</summary>
    private string Refuse(string userId, string connectionId)
    {
        var limit = Options.MaxConnectionsPerUser;
        Metrics.ConnectionRefused(ConnectionRefusalReasons.ConnectionLimit);
        Log.ConnectionLimitReached(Metrics.Logger, connectionId, userId, limit);
        return string.Format(
            System.Globalization.CultureInfo.InvariantCulture,
            "Too many connections: at most {0} per user. Close another connection first.",
            limit);
    }

    /// <summary>Adds the sink under its user; false when the user already has <see cref="EventDeliveryOptions.MaxConnectionsPerUser"/> connections.</summary>
    private bool TryAdd(string userId, string connectionId, IEventSink sink)
    {
        while (true)
        {
            var connections = _users.GetOrAdd(userId, static _ => new UserConnections());
            lock (connections)
            {
                if (connections.Retired)
                {
                    // Its last connection left while we were looking it up: take (or create) the current entry.
                    continue;
                }

                var sinks = connections.Sinks;
                foreach (var existing in sinks)
                {
                    if (string.Equals(existing.ConnectionId, connectionId, StringComparison.Ordinal))
                    {
                        ThrowHelper.ThrowArgument(
                            $"User '{userId}' already has a registered connection {connectionId}. Connection ids must be unique per user; dispose the old registration first or use a new id (e.g. HttpContext.Connection.Id plus a counter).",
                            nameof(IEventSink.ConnectionId));
                    }
                }

                if (sinks.Length >= Options.MaxConnectionsPerUser)
                {
                    return false;
                }

                var copy = new IEventSink[sinks.Length + 1];
                Array.Copy(sinks, copy, sinks.Length);
                copy[sinks.Length] = sink;
                Volatile.Write(ref connections.Sinks, copy);
            }

            Interlocked.Increment(ref _connectionCount);
            _connectionIds.AddOrUpdate(connectionId, 1, static (_, users) => users + 1);
            if (Metrics.Logger.IsEnabled(LogLevel.Debug))
            {
                Log.ConnectionRegistered(Metrics.Logger, connectionId, userId);
            }

            return true;
        }
    }

    private void ForgetConnectionId(string connectionId)
    {
        while (_connectionIds.TryGetValue(connectionId, out var users))
        {
            if (users <= 1
                ? _connectionIds.TryRemove(new KeyValuePair<string, int>(connectionId, users))
                : _connectionIds.TryUpdate(connectionId, users - 1, users))
            {
                return;
            }
        }
    }

    /// <summary>One user's connections. Retired once its last connection leaves; a retired entry is never reused.</summary>
    private sealed class UserConnections
    {
#pragma warning disable SA1401, CA1051 // Read without a lock on the delivery path; written under the lock.
        public IEventSink[] Sinks = [];
        public bool Retired;

        // The UserStateSlot states of this user, by slot index; null until a slot is first set.
        public object?[]? States;
#pragma warning restore SA1401, CA1051
    }

    /// <summary>Removes its connection once, when disposed.</summary>
    private sealed class Registration : IDisposable
    {
        private ConnectionRegistry? _registry;
        private readonly string _userId;
        private readonly IEventSink _sink;

        public Registration(ConnectionRegistry registry, string userId, IEventSink sink)
        {
            _registry = registry;
            _userId = userId;
            _sink = sink;
        }

        public void Dispose() => Interlocked.Exchange(ref _registry, null)?.Remove(_userId, _sink);
    }
}
