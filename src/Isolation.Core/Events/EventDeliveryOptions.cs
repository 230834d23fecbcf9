using System.Text.Json.Serialization.Metadata;

namespace Isolation;

/// <summary>
/// Options of agent event delivery: the per-connection queue of every <see cref="WebSocketEventSink"/>, what happens when
/// it is full, how long one send may take, and how payloads are serialized. Validated when the registry is first built.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddIsolation();
/// builder.Services.Configure&lt;EventDeliveryOptions&gt;(o =>
/// {
///     o.QueueCapacity = 128;
///     o.QueueFullMode = EventQueueFullMode.DropOldest;
///     o.PayloadTypeInfoResolver = ChatJsonContext.Default; // for trimming and native AOT
/// });
/// </code>
/// </example>
public sealed class EventDeliveryOptions
{
    internal const int DefaultQueueCapacity = 256;
    internal const int MaxQueueCapacity = 100_000;
    internal const EventQueueFullMode DefaultQueueFullMode = EventQueueFullMode.DropOldest;
    internal static readonly TimeSpan DefaultSendTimeout = TimeSpan.FromSeconds(10);
    internal static readonly TimeSpan MaxSendTimeout = TimeSpan.FromMinutes(10);
    internal const int DefaultMaxConnectionsPerUser = 16;
    internal const int MaxMaxConnectionsPerUser = 10_000;

    /// <summary>Gets or sets how many events wait for one connection before <see cref="QueueFullMode"/> applies. From 1 to 100,000.</summary>
    /// <value>The default value is 256.</value>
    public int QueueCapacity { get; set; } = DefaultQueueCapacity;

    /// <summary>Gets or sets what a full connection queue does with the next event.</summary>
    /// <value>The default value is <see cref="EventQueueFullMode.DropOldest"/>.</value>
    public EventQueueFullMode QueueFullMode { get; set; } = DefaultQueueFullMode;

    /// <summary>
    /// Gets or sets how long sending one event may take. A send that takes longer aborts the connection (the client stopped
    /// reading and its buffers are full) and removes it from the registry. Positive and at most 10 minutes.
    /// </summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan SendTimeout { get; set; } = DefaultSendTimeout;

    /// <summary>
    /// Gets or sets how many connections one user may have registered at once, so that one user cannot hold any number of
    /// sockets (each with its own queue) on the server. A registration beyond it is refused: a WebSocket is closed with status
    /// 1008 (policy violation) and a reason that names the limit, a custom sink's <see cref="IConnectionRegistry.Register"/>
    /// throws <see cref="InvalidOperationException"/>; either way the refusal is logged and counted on
    /// <c>isolation.connections.refused</c> (reason <c>connection_limit</c>). From 1 to 10,000.
    /// </summary>
    /// <value>The default value is 16.</value>
    public int MaxConnectionsPerUser { get; set; } = DefaultMaxConnectionsPerUser;

    /// <summary>
    /// Gets or sets the resolver of payload types, tried before the library's own (which knows strings, numbers, booleans,
    /// <see cref="System.Text.Json.JsonElement"/>, JSON nodes and string dictionaries). Set it to your source-generated
    /// <see cref="System.Text.Json.Serialization.JsonSerializerContext"/> so payloads serialize when trimmed or compiled
    /// ahead of time; when it is <see langword="null"/> and reflection-based serialization is enabled, any payload type works.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public IJsonTypeInfoResolver? PayloadTypeInfoResolver { get; set; }
}
