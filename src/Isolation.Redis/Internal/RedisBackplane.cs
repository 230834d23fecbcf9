using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Isolation.Redis.Internal;

/// <summary>
/// Everything that talks to Redis: the connection, this node's presence records, the outbound writers (events for users
/// whose connections are on other nodes) and the reader of this node's channel. Started and stopped with the host.
/// </summary>
/// <remarks>
/// Outbound events go through a few shards, each a bounded queue with one writer, chosen by user: a user's events keep
/// their order, a slow presence lookup for one user holds up only its shard, and <see cref="Forward"/> never waits.
/// </remarks>
internal sealed class RedisBackplane : IHostedService, IAsyncDisposable, IDisposable
{
    private const int ShardCount = 4;

    private readonly RedisEventDeliveryOptions _options;
    private readonly ConnectionRegistry _local;
    private readonly TimeProvider _time;
    private readonly bool _systemClock;
    private readonly ILogger _logger;
    private readonly EnvelopeCodec _codec;
    private readonly RedisNames _names;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly byte[] _channelBytes;
    private readonly RedisChannel _channel;
    private readonly Channel<Outbound>[] _shards = new Channel<Outbound>[ShardCount];
    private readonly ConcurrentDictionary<string, byte> _localUsers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PresenceEntry> _presence = new(StringComparer.Ordinal);
    private readonly UserStateSlot<PresenceEntry> _presenceSlot;
    private readonly ConcurrentDictionary<string, Target> _targets = new(StringComparer.Ordinal);
    private readonly object[] _presenceLocks = [new(), new(), new(), new(), new(), new(), new(), new()];
    private readonly RedisChannel _presenceChanges;
    private readonly string _noticePrefix;
    private readonly ReplayWindow _replay;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken; // Taken once: still readable after _stopping is disposed.
    private readonly Counter<long> _sent;
    private readonly Counter<long> _received;
    private readonly Counter<long> _gaps;
    private readonly List<Task> _loops = [];
    private ConnectionMultiplexer? _redis;
    private ChannelMessageQueue? _queue;
    private ITimer? _clock;
    private long _coarseNow;
    private int _presenceGeneration;
    private int _noticesSubscribed;
    private int _started;
    private int _stopped;

    public RedisBackplane(
        IOptions<RedisEventDeliveryOptions> options,
        IOptions<EventDeliveryOptions> eventOptions,
        ConnectionRegistry local,
        TimeProvider time,
        IMeterFactory meterFactory,
        ILoggerFactory? loggerFactory)
    {
        _stoppingToken = _stopping.Token;
        _options = options.Value;
        _local = local;
        _presenceSlot = local.CreateUserStateSlot<PresenceEntry>();
        _time = time;
        _systemClock = ReferenceEquals(time, TimeProvider.System);
        _logger = (ILogger?)loggerFactory?.CreateLogger("Isolation.Redis") ?? NullLogger.Instance;
        NodeId = _options.NodeId ?? string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        _names = new RedisNames(_options.EnvironmentPrefix!);
        _codec = new EnvelopeCodec(
            RedisEventDeliveryOptionsValidator.DecodeKey(_options.SigningKey!),
            _options.PreviousSigningKeys.Select(RedisEventDeliveryOptionsValidator.DecodeKey).ToArray(),
            eventOptions.Value.PayloadTypeInfoResolver);
        ChannelName = _names.NodeChannel(NodeId);
        _channelBytes = EnvelopeCodec.ChannelBytes(ChannelName);
        _channel = RedisChannel.Literal(ChannelName);
        _presenceChanges = RedisChannel.Literal(_names.PresenceChangesChannel);
        _noticePrefix = RedisNames.Escape(NodeId) + " "; // An escaped node id has no space: "<node> <user>".
        _replay = new ReplayWindow(_options.MaxMessageAge * 2);
        var capacity = Math.Max(1, _options.OutboundQueueCapacity / ShardCount);
        for (var i = 0; i < ShardCount; i++)
        {
            _shards[i] = Channel.CreateBounded<Outbound>(new BoundedChannelOptions(capacity)
            {
                SingleReader = true,
                FullMode = BoundedChannelFullMode.Wait, // TryWrite returns false when full: counted, never waited for.
            });
        }

        _coarseNow = NowMilliseconds();
        var meter = meterFactory.Create(RedisTelemetry.MeterName);
        _sent = meter.CreateCounter<long>(RedisTelemetry.MessagesSent, "{message}", "Messages this node published to other nodes' channels, one per target node.");
        _received = meter.CreateCounter<long>(RedisTelemetry.MessagesReceived, "{message}", "Messages this node accepted from other nodes and handed to its local connection registry.");
        _gaps = meter.CreateCounter<long>(RedisTelemetry.MessageGaps, "{message}", "Messages from another node that never arrived on this node, seen as a jump in that node's counter.");
    }

    public string NodeId { get; }

    public string ChannelName { get; }

    /// <summary>Gets whether remote delivery works right now: connected to Redis and subscribed to this node's channel.</summary>
    public bool IsAvailable => _redis is { IsConnected: true } && Volatile.Read(ref _queue) is not null && Volatile.Read(ref _stopped) == 0;

    /// <summary>Gets when Redis became unavailable, or <see langword="null"/> while it is available (or before the first connection).</summary>
    public DateTimeOffset? UnavailableSince { get; private set; }

    public bool IsStarted => Volatile.Read(ref _started) != 0;

    /// <summary>
    /// The slot on the local registry's user entries where this node keeps each local user's last presence answer, so
    /// that a local delivery reads it in the same lookup as the user's connections.
    /// </summary>
    public UserStateSlot<PresenceEntry> PresenceSlot => _presenceSlot;

    /// <summary>
    /// Whether a lookup found no other node holding connections of <paramref name="userId"/>: then an event of that user
    /// is delivered here only, exactly as without Redis — no queue hop. <paramref name="attached"/> is the answer the local
    /// registry keeps on the user's entry (read with the connections, in the same lookup); without one (the user's first
    /// connection here, or none), the node's presence cache is asked and its answer attached for the next event. Once the
    /// answer is older than PresenceCacheDuration, one lookup starts in the background and the old answer serves until it
    /// returns, so a connection opened elsewhere meanwhile is learned within PresenceCacheDuration plus one lookup, plus one
    /// tick of the clock the delivery path reads (advanced by a timer every tenth of PresenceCacheDuration, 10 to 100 ms,
    /// so that no event pays for reading the time).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsLocalOnly(string userId, PresenceEntry? attached)
    {
        // The common case, inlined into the registry's Publish: a current, unexpired answer that says "only here".
        if (attached is { LocalOnly: true } && attached.Generation == Volatile.Read(ref _presenceGeneration) && Volatile.Read(ref _coarseNow) < attached.ExpiresAt)
        {
            return true;
        }

        return IsLocalOnlySlow(userId, attached);
    }

    private bool IsLocalOnlySlow(string userId, PresenceEntry? attached)
    {
        var cached = attached;
        if (cached is null || cached.Generation != Volatile.Read(ref _presenceGeneration))
        {
            // Not attached yet, or learned before Redis came back (it may have restarted empty): ask the cache.
            if (!_presence.TryGetValue(userId, out cached))
            {
                return false;
            }

            Attach(userId, cached);
        }

        if (!cached.LocalOnly)
        {
            return false;
        }

        if (Volatile.Read(ref _coarseNow) >= cached.ExpiresAt)
        {
            // A newer answer may be in the cache already (a lookup that raced with attaching this one): take it.
            if (_presence.TryGetValue(userId, out var current) && !ReferenceEquals(current, cached))
            {
                Attach(userId, current);
                return current.LocalOnly;
            }

            RefreshInBackground(userId, cached);
        }

        return true;
    }

    /// <summary>Queues an event for the user's connections on other nodes; never waits, never throws.</summary>
    public void Forward(EventEnvelope envelope, bool deliveredLocally)
    {
        if (!IsAvailable)
        {
            _local.ReportDropped(RedisDropReasons.BackplaneUnavailable, envelope);
            return;
        }

        var shard = _shards[(int)((uint)StringComparer.Ordinal.GetHashCode(envelope.UserId) % ShardCount)];
        if (!shard.Writer.TryWrite(new Outbound(envelope, deliveredLocally)))
        {
            _local.ReportDropped(RedisDropReasons.BackplaneQueueFull, envelope);
        }
    }

    /// <summary>Looks a user's nodes up again, once at a time per cached entry, off the delivery path.</summary>
    private void RefreshInBackground(string userId, PresenceEntry stale)
    {
        var redis = _redis;
        if (redis is not { IsConnected: true } || Interlocked.Exchange(ref stale.Refreshing, 1) != 0)
        {
            return; // Redis is away (the entry is cleared when it returns), or a lookup is already under way.
        }

        _ = Task.Run(
            async () =>
            {
                try
                {
                    await GetRemoteNodesAsync(redis, userId).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // Best effort: the stale entry keeps serving, and the next event past its expiry tries again.
                catch (Exception ex) when (!IsFatal(ex))
#pragma warning restore CA1031
                {
                    Volatile.Write(ref stale.Refreshing, 0);
                    Log.PresenceFailed(_logger, ex);
                }
            },
            CancellationToken.None);
    }

    /// <summary>
    /// Records that a user has a connection here, and announces it at once (the refresh keeps it alive). While Redis is
    /// connected this waits for the presence record to be written: when the registration returns, every presence lookup
    /// made from then on, on any node, finds this node — so a sender with no earlier answer for the user cannot miss the
    /// new connection (a write sent without waiting could still be on its way when a run on another node, started
    /// because the client was told it is registered, looks the user up).
    /// </summary>
    public void OnLocalConnection(string userId)
    {
        _localUsers.TryAdd(userId, 0);
        var redis = _redis;
        if (redis is not { IsConnected: true })
        {
            return; // Written by the refresh after (re)connecting.
        }

        try
        {
            var key = (RedisKey)_names.PresenceKey(userId);
            var db = redis.GetDatabase();

            // The record and its expiry, then the notice to the other nodes (drop what you knew about this user), in order
            // on the one connection; the wait for the notice's reply (one round trip) means Redis has applied the record
            // and handed the notice to every node's subscription.
            db.SortedSetAdd(key, NodeId, ExpiryScore(), CommandFlags.FireAndForget);
            db.KeyExpire(key, _options.PresenceTtl, CommandFlags.FireAndForget);
            redis.GetSubscriber().Publish(_presenceChanges, _noticePrefix + userId);
        }
#pragma warning disable CA1031 // Presence is best effort here; the periodic refresh writes it again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.PresenceFailed(_logger, ex);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        // The delivery path compares cached answers with a clock this timer advances, instead of reading one per event.
        if (_options.PresenceCacheDuration > TimeSpan.Zero)
        {
            var tick = ClockTick(_options.PresenceCacheDuration);
            AdvanceClock();
            _clock = _time.CreateTimer(static state => ((RedisBackplane)state!).AdvanceClock(), this, tick, tick);
        }

        var configuration = ConfigurationOptions.Parse(_options.Configuration!);
        configuration.AbortOnConnectFail = false; // Start even when Redis is down; connect in the background.
        configuration.BacklogPolicy = BacklogPolicy.FailFast; // Never queue commands while disconnected: drop and count.
        configuration.ClientName ??= "isolation-" + NodeId;
        try
        {
            _redis = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        }
        catch (RedisConnectionException ex)
        {
            Log.ConnectFailed(_logger, ex);
            UnavailableSince = _time.GetUtcNow();
            _redis = null;
        }

        if (_redis is not null)
        {
            _redis.ConnectionFailed += OnConnectionFailed;
            _redis.ConnectionRestored += OnConnectionRestored;
            if (!_redis.IsConnected)
            {
                UnavailableSince = _time.GetUtcNow();
            }

            await TrySubscribeAsync().ConfigureAwait(false);
            await RefreshPresenceAsync().ConfigureAwait(false);
        }

        foreach (var shard in _shards)
        {
            _loops.Add(Task.Run(() => WriteLoopAsync(shard.Reader), CancellationToken.None));
        }

        _loops.Add(Task.Run(PresenceLoopAsync, CancellationToken.None));
        Log.Started(_logger, NodeId, ChannelName);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        // A stop whose time is already up is treated like a crash: nothing is removed, the records expire on their own.
        var graceful = !cancellationToken.IsCancellationRequested;
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var shard in _shards)
        {
            shard.Writer.TryComplete();
        }

        var redis = _redis;
        if (graceful && redis is { IsConnected: true })
        {
            try
            {
                var db = redis.GetDatabase();
                var removals = new List<Task>();
                foreach (var userId in _localUsers.Keys)
                {
                    removals.Add(db.SortedSetRemoveAsync(_names.PresenceKey(userId), NodeId));
                }

                await Task.WhenAll(removals).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (_queue is not null)
                {
                    await _queue.UnsubscribeAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
#pragma warning disable CA1031 // Best effort: whatever is left expires with its TTL.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.PresenceFailed(_logger, ex);
            }
        }

        _clock?.Dispose();
        await CloseAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A loop stuck in a Redis call ends with the connection's own timeout; it observes its own exceptions.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _stopped) == 0)
        {
            await StopAsync(new CancellationToken(canceled: true)).ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>Synchronous disposal (a container disposed with <c>Dispose()</c>): like a crash, nothing is removed from Redis.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            _clock?.Dispose();
            _stopping.Cancel();
            foreach (var shard in _shards)
            {
                shard.Writer.TryComplete();
            }

            var redis = Interlocked.Exchange(ref _redis, null);
            if (redis is not null)
            {
                redis.ConnectionFailed -= OnConnectionFailed;
                redis.ConnectionRestored -= OnConnectionRestored;
                Volatile.Write(ref _queue, null);
                redis.Dispose();
            }
        }

        _stopping.Dispose();
    }

    private static bool IsFatal(Exception ex) => ex is OutOfMemoryException;

    private async Task CloseAsync()
    {
        var redis = Interlocked.Exchange(ref _redis, null);
        if (redis is null)
        {
            return;
        }

        redis.ConnectionFailed -= OnConnectionFailed;
        redis.ConnectionRestored -= OnConnectionRestored;
        Volatile.Write(ref _queue, null);
        await redis.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
        await redis.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// A monotonic clock in milliseconds for the presence cache, read on every local delivery: the system's coarse tick
    /// count (a few nanoseconds, where a high-resolution timestamp costs several times that), or the configured
    /// <see cref="TimeProvider"/>'s timestamp when one replaces the system clock.
    /// </summary>
    private long NowMilliseconds() => _systemClock ? Environment.TickCount64 : (long)_time.GetElapsedTime(0).TotalMilliseconds;

    /// <summary>How often the delivery path's clock advances: a tenth of the cache duration, from 10 to 100 milliseconds.</summary>
    private static TimeSpan ClockTick(TimeSpan cacheDuration) =>
        TimeSpan.FromMilliseconds(Math.Clamp(cacheDuration.TotalMilliseconds / 10, 10, 100));

    private void AdvanceClock() => Volatile.Write(ref _coarseNow, NowMilliseconds());

    private double ExpiryScore() => (_time.GetUtcNow() + _options.PresenceTtl).ToUnixTimeMilliseconds();

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        UnavailableSince ??= _time.GetUtcNow();
        Log.Unavailable(_logger, e.Exception, e.FailureType.ToString(), e.EndPoint?.ToString() ?? "?");
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        UnavailableSince = null;
        Log.Restored(_logger, e.EndPoint?.ToString() ?? "?");

        // Redis may have restarted empty: forget what we knew about other nodes (here and what is attached to the local
        // registry's entries) and write our presence again now.
        Interlocked.Increment(ref _presenceGeneration);
        _presence.Clear();
        _ = Task.Run(
            async () =>
            {
                await TrySubscribeAsync().ConfigureAwait(false);
                await RefreshPresenceAsync().ConfigureAwait(false);
            },
            CancellationToken.None);
    }

    private async Task TrySubscribeAsync()
    {
        var redis = _redis;
        if (redis is null || Volatile.Read(ref _queue) is not null || _stoppingToken.IsCancellationRequested)
        {
            return;
        }

        try
        {
            // Presence notices first, so that once this node's channel is subscribed (it is available) it also hears
            // about connections opened elsewhere. Resubscribed by StackExchange.Redis itself after a reconnection.
            if (Interlocked.Exchange(ref _noticesSubscribed, 1) == 0)
            {
                try
                {
                    await redis.GetSubscriber().SubscribeAsync(_presenceChanges, (_, value) => OnPresenceChanged(value)).ConfigureAwait(false);
                }
                catch
                {
                    Volatile.Write(ref _noticesSubscribed, 0);
                    throw;
                }
            }

            var queue = await redis.GetSubscriber().SubscribeAsync(_channel).ConfigureAwait(false);
            if (Interlocked.CompareExchange(ref _queue, queue, null) is null)
            {
                _loops.Add(Task.Run(() => ReadLoopAsync(queue), CancellationToken.None));
            }
            else
            {
                await queue.UnsubscribeAsync().ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Retried by the presence loop; remote events are counted as unavailable meanwhile.
        catch (Exception ex) when (!IsFatal(ex))
#pragma warning restore CA1031
        {
            Log.SubscribeFailed(_logger, ex, ChannelName);
        }
    }

    private async Task PresenceLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.PresenceRefreshInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stoppingToken).ConfigureAwait(false))
            {
                await TrySubscribeAsync().ConfigureAwait(false);
                await RefreshPresenceAsync().ConfigureAwait(false);
                PrunePresenceCache();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task RefreshPresenceAsync()
    {
        var redis = _redis;
        if (redis is not { IsConnected: true } || _stoppingToken.IsCancellationRequested)
        {
            return;
        }

        try
        {
            var db = redis.GetDatabase();
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var expiry = ExpiryScore();
            var batch = db.CreateBatch();
            var pending = new List<Task>();
            foreach (var userId in _localUsers.Keys)
            {
                var key = (RedisKey)_names.PresenceKey(userId);
                if (_local.GetConnectionCount(userId) > 0)
                {
                    pending.Add(batch.SortedSetAddAsync(key, NodeId, expiry));
                    pending.Add(batch.SortedSetRemoveRangeByScoreAsync(key, double.NegativeInfinity, now));
                    pending.Add(batch.KeyExpireAsync(key, _options.PresenceTtl));
                }
                else if (_localUsers.TryRemove(userId, out _))
                {
                    pending.Add(batch.SortedSetRemoveAsync(key, NodeId));
                    if (_local.GetConnectionCount(userId) > 0)
                    {
                        // Reconnected while we were removing it: keep it.
                        _localUsers.TryAdd(userId, 0);
                        pending.Add(batch.SortedSetAddAsync(key, NodeId, expiry));
                        pending.Add(batch.KeyExpireAsync(key, _options.PresenceTtl));
                    }
                }
            }

            batch.Execute();
            await Task.WhenAll(pending).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Retried at the next interval; a missed refresh is what the TTL margin is for.
        catch (Exception ex) when (!IsFatal(ex))
#pragma warning restore CA1031
        {
            Log.PresenceFailed(_logger, ex);
        }
    }

    private void PrunePresenceCache()
    {
        var now = NowMilliseconds();
        foreach (var (userId, entry) in _presence)
        {
            if (now >= entry.ExpiresAt)
            {
                _presence.TryRemove(new KeyValuePair<string, PresenceEntry>(userId, entry));
            }
        }
    }

    private async Task WriteLoopAsync(ChannelReader<Outbound> reader)
    {
        try
        {
            while (await reader.WaitToReadAsync(_stoppingToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    try
                    {
                        await SendAsync(item).ConfigureAwait(false);
                    }
#pragma warning disable CA1031 // One failed send is one counted drop; the loop serves the next event.
                    catch (Exception ex) when (!IsFatal(ex))
#pragma warning restore CA1031
                    {
                        Log.SendFailed(_logger, ex, "?");
                        _local.ReportDropped(RedisDropReasons.BackplaneUnavailable, item.Envelope);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: what is still queued is not sent.
        }

        var left = 0L;
        while (reader.TryRead(out _))
        {
            left++;
        }

        if (left > 0)
        {
            _local.ReportDropped(RedisDropReasons.BackplaneUnavailable, null, left);
        }
    }

    private async ValueTask SendAsync(Outbound item)
    {
        var envelope = item.Envelope;
        var redis = _redis;
        if (redis is not { IsConnected: true })
        {
            _local.ReportDropped(RedisDropReasons.BackplaneUnavailable, envelope);
            return;
        }

        var nodes = await GetRemoteNodesAsync(redis, envelope.UserId).ConfigureAwait(false);
        if (nodes.Length == 0)
        {
            if (!item.DeliveredLocally)
            {
                _local.ReportDropped(RedisDropReasons.NoConnection, envelope);
            }

            return;
        }

        byte[] payload;
        try
        {
            payload = _codec.SerializePayload(envelope.Payload);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or System.Text.Json.JsonException or ArgumentException)
        {
            _local.ReportDropped(RedisDropReasons.SerializationFailed, envelope, nodes.Length);
            return;
        }

        var subscriber = redis.GetSubscriber();
        foreach (var node in nodes)
        {
            var target = _targets.GetOrAdd(node, static (id, names) => new Target(names.NodeChannel(id)), _names);
            try
            {
                // Counter, signature and publish under the target's lock: the wire order is the counter order, so the
                // receiver's replay window sees 1, 2, 3 … from this process, and a jump is a real loss.
                lock (target)
                {
                    var header = new OutboundHeader(NodeId, _instance, target.Counter + 1, _time.GetUtcNow().ToUnixTimeMilliseconds(), node);
                    var message = _codec.Encode(target.ChannelBytes, header, envelope, payload);
                    subscriber.Publish(target.Channel, message, CommandFlags.FireAndForget);
                    target.Counter++;
                }

                _sent.Add(1);
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException or InvalidOperationException)
            {
                Log.SendFailed(_logger, ex, node);
                _local.ReportDropped(RedisDropReasons.BackplaneUnavailable, envelope);
            }
        }
    }

    private async ValueTask<string[]> GetRemoteNodesAsync(ConnectionMultiplexer redis, string userId)
    {
        var now = NowMilliseconds();
        var found = _presence.TryGetValue(userId, out var cached);
        if (found && now < cached!.ExpiresAt)
        {
            return cached.Nodes;
        }

        var members = await redis.GetDatabase()
            .SortedSetRangeByScoreAsync(_names.PresenceKey(userId), _time.GetUtcNow().ToUnixTimeMilliseconds(), double.PositiveInfinity)
            .ConfigureAwait(false);
        var nodes = new List<string>(members.Length);
        foreach (var member in members)
        {
            var node = (string?)member;
            if (node is not null && !string.Equals(node, NodeId, StringComparison.Ordinal))
            {
                nodes.Add(node);
            }
        }

        var result = nodes.ToArray();
        if (_options.PresenceCacheDuration > TimeSpan.Zero)
        {
            var entry = new PresenceEntry(result, now + (long)_options.PresenceCacheDuration.TotalMilliseconds, Volatile.Read(ref _presenceGeneration));
            lock (PresenceLock(userId))
            {
                // Kept only if nothing replaced what this lookup started from: a presence notice that arrived meanwhile
                // may be about a record this lookup did not see yet.
                var unchanged = _presence.TryGetValue(userId, out var current) ? found && ReferenceEquals(current, cached) : !found;
                if (unchanged)
                {
                    _presence[userId] = entry;
                    _presenceSlot.TrySet(userId, entry); // Read by the next local delivery with the user's connections.
                }
            }
        }

        return result;
    }

    private object PresenceLock(string userId) => _presenceLocks[(uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)_presenceLocks.Length];

    /// <summary>Attaches a cached answer to the user's local entry, unless a notice replaced it meanwhile.</summary>
    private void Attach(string userId, PresenceEntry entry)
    {
        lock (PresenceLock(userId))
        {
            if (_presence.TryGetValue(userId, out var current) && ReferenceEquals(current, entry))
            {
                _presenceSlot.TrySet(userId, entry);
            }
        }
    }

    /// <summary>
    /// A node wrote a presence record for the user (a new connection there): forget this node's answer for that user, so
    /// that the next event of the user looks it up again instead of trusting an answer learned before that connection.
    /// </summary>
    private void OnPresenceChanged(RedisValue value)
    {
        // "<escaped sender node> <user>"; this node's own notices are skipped (it knows its own connections).
        var notice = (string?)value;
        var space = notice?.IndexOf(' ', StringComparison.Ordinal) ?? -1;
        if (notice is null || space <= 0 || space == notice.Length - 1 || notice.StartsWith(_noticePrefix, StringComparison.Ordinal))
        {
            return;
        }

        var userId = notice[(space + 1)..];

        var unknown = PresenceEntry.Unknown(Volatile.Read(ref _presenceGeneration));
        lock (PresenceLock(userId))
        {
            _presence[userId] = unknown;
            _presenceSlot.TrySet(userId, unknown);
        }
    }

    private async Task ReadLoopAsync(ChannelMessageQueue queue)
    {
        try
        {
            while (true)
            {
                var message = await queue.ReadAsync(_stoppingToken).ConfigureAwait(false);
                try
                {
                    Receive(message.Message);
                }
#pragma warning disable CA1031 // One bad message must not stop this node from receiving the next one.
                catch (Exception ex) when (!IsFatal(ex))
#pragma warning restore CA1031
                {
                    Log.ReceiveFailed(_logger, ex);
                    _local.ReportDropped(RedisDropReasons.BackplaneMalformed, null);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        catch (ChannelClosedException)
        {
            // Unsubscribed.
        }
    }

    private void Receive(RedisValue value)
    {
        var bytes = (byte[]?)value ?? [];
        var status = _codec.TryDecode(_channelBytes, bytes, out var message);
        if (status != DecodeStatus.Ok)
        {
            Refuse(status == DecodeStatus.Forged ? RedisDropReasons.BackplaneForged : RedisDropReasons.BackplaneMalformed);
            return;
        }

        if (!string.Equals(message.To, NodeId, StringComparison.Ordinal))
        {
            Refuse(RedisDropReasons.BackplaneMisaddressed);
            return;
        }

        var now = _time.GetUtcNow();
        var age = now.ToUnixTimeMilliseconds() - message.SentUnixMilliseconds;
        if (Math.Abs(age) > (long)_options.MaxMessageAge.TotalMilliseconds)
        {
            Refuse(RedisDropReasons.BackplaneStale);
            return;
        }

        if (!_replay.TryAccept(message.Instance, message.Counter, now.UtcTicks, out var missed))
        {
            Refuse(RedisDropReasons.BackplaneReplayed);
            return;
        }

        if (missed > 0)
        {
            _gaps.Add(missed);
            Log.Gap(_logger, missed, message.From, message.Counter);
        }

        _received.Add(1);

        // The local registry delivers to the user's connections here, and every sink checks its owner again.
        _local.Publish(message.Envelope);
    }

    private void Refuse(string reason)
    {
        Log.Refused(_logger, ChannelName, reason);
        _local.ReportDropped(reason, null);
    }

    private readonly record struct Outbound(EventEnvelope Envelope, bool DeliveredLocally);

    /// <summary>One answer of a presence lookup: the other nodes that held connections of a user, and until when to trust it.</summary>
    internal sealed class PresenceEntry(string[] nodes, long expiresAt, int generation, bool known = true)
    {
        public string[] Nodes { get; } = nodes;

        /// <summary>Gets whether no other node held connections of the user (never for an <see cref="Unknown"/> entry).</summary>
        public bool LocalOnly { get; } = known && nodes.Length == 0;

        /// <summary>Gets when the entry expires, on <see cref="NowMilliseconds"/>'s clock.</summary>
        public long ExpiresAt { get; } = expiresAt;

        /// <summary>Gets the cache generation it was learned in; a reconnection to Redis starts a new one.</summary>
        public int Generation { get; } = generation;

        /// <summary>An already expired entry that is not local-only: the answer was dropped by a presence notice.</summary>
        public static PresenceEntry Unknown(int generation) => new([], long.MinValue, generation, known: false);

#pragma warning disable SA1401, CA1051 // Claimed with Interlocked by the one background lookup of this entry.
        public int Refreshing;
#pragma warning restore SA1401, CA1051
    }

    private sealed class Target(string channel)
    {
        public RedisChannel Channel { get; } = RedisChannel.Literal(channel);

        public byte[] ChannelBytes { get; } = EnvelopeCodec.ChannelBytes(channel);

        public long Counter { get; set; }
    }
}
