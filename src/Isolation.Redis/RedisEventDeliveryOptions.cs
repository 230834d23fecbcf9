namespace Isolation.Redis;

/// <summary>
/// Options of cross-node event delivery on Redis, bound by <c>AddRedisEventDelivery</c> (typically from the
/// <c>Isolation:Redis</c> configuration section) and validated when the registry is first built or the host starts.
/// </summary>
public sealed class RedisEventDeliveryOptions
{
    internal const int MinimumKeyBytes = 32;
    internal const int MaximumKeyBytes = 1024;
    internal const int MaximumPrefixLength = 64;
    internal const int MaximumNodeIdLength = 128;
    internal static readonly TimeSpan DefaultPresenceTtl = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan DefaultPresenceRefreshInterval = TimeSpan.FromSeconds(10);
    internal static readonly TimeSpan DefaultPresenceCacheDuration = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan DefaultMaxMessageAge = TimeSpan.FromSeconds(30);
    internal const int DefaultOutboundQueueCapacity = 10_000;

    /// <summary>Gets or sets the StackExchange.Redis configuration string, e.g. <c>redis-1:6379,password=…</c>. Required.</summary>
    /// <value>No default: the option is required.</value>
    public string? Configuration { get; set; }

    /// <summary>
    /// Gets or sets the deployment's name, part of every Redis key and channel this package uses, so two applications or
    /// environments sharing one Redis never see each other's presence or events. Required.
    /// </summary>
    /// <value>No default: the option is required (1 to 64 characters).</value>
    public string? EnvironmentPrefix { get; set; }

    /// <summary>Gets or sets this node's identifier, unique among the running nodes of the deployment.</summary>
    /// <value>The default is the machine name, the process id and a random suffix, new for every process.</value>
    public string? NodeId { get; set; }

    /// <summary>
    /// Gets or sets the deployment's signing key, base64, at least 32 bytes of random data (e.g. <c>openssl rand -base64 32</c>).
    /// Every message is signed with it (HMAC-SHA256); every node of the deployment needs the same key. Required.
    /// </summary>
    /// <value>No default: the option is required.</value>
    public string? SigningKey { get; set; }

    /// <summary>
    /// Gets the keys that were the signing key before a rotation, base64: messages signed with them are still accepted, new
    /// messages are signed with <see cref="SigningKey"/> only. Remove a key once every node signs with the new one.
    /// </summary>
    /// <value>The default is empty.</value>
    public IList<string> PreviousSigningKeys { get; } = new List<string>();

    /// <summary>
    /// Gets or sets how long this node's presence records live in Redis without a refresh: a node that dies without cleaning
    /// up stops being sent events within this time (plus <see cref="PresenceCacheDuration"/>).
    /// </summary>
    /// <value>The default is 30 seconds; at least 1 second.</value>
    public TimeSpan PresenceTtl { get; set; } = DefaultPresenceTtl;

    /// <summary>Gets or sets how often this node refreshes its presence records; at most half of <see cref="PresenceTtl"/>.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan PresenceRefreshInterval { get; set; } = DefaultPresenceRefreshInterval;

    /// <summary>
    /// Gets or sets how long a sending node reuses the list of nodes that hold a user's connections before asking Redis
    /// again. A connection opened on another node receives events from this node at most this much later. Zero asks every time.
    /// </summary>
    /// <value>The default is 1 second; less than <see cref="PresenceTtl"/>.</value>
    public TimeSpan PresenceCacheDuration { get; set; } = DefaultPresenceCacheDuration;

    /// <summary>
    /// Gets or sets how old (or how far in the future, for clock skew) a message may be when it arrives; older ones are
    /// refused as <c>backplane_stale</c>. It also bounds how long the receiving node remembers a sender for replay checks.
    /// </summary>
    /// <value>The default is 30 seconds; at least 1 second.</value>
    public TimeSpan MaxMessageAge { get; set; } = DefaultMaxMessageAge;

    /// <summary>
    /// Gets or sets how many events may wait to be sent to Redis; when full, new remote events are dropped and counted as
    /// <c>backplane_queue_full</c> (local delivery is unaffected).
    /// </summary>
    /// <value>The default is 10,000; from 1 to 1,000,000.</value>
    public int OutboundQueueCapacity { get; set; } = DefaultOutboundQueueCapacity;
}
