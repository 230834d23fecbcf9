using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Isolation.Diagnostics;

/// <summary>
/// Decides which scopes are tracked and runs the checks that need the garbage collector: scopes never disposed
/// (a finalizable sentinel owned by the scope) and agents still reachable after their scope ended (weak references
/// checked after a full collection and a grace period).
/// </summary>
internal sealed class LeakTracker
{
    private const int MaxPendingAgents = 10_000;
    private const long SaturationLogIntervalTicks = TimeSpan.TicksPerMinute;

    private readonly IsolationMonitor _monitor;
    private readonly LeakDetectionLevel _level;
    private readonly int _samplingInterval;
    private readonly TimeSpan _retentionGrace;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<EndedAgent> _pending = new();

    // Scopes until the next tracked one: one count shared by every thread, read and written without synchronization.
    private int _sampleCountdown;
    private int _pendingCount;
    private int _lastSweepGen2;
    private int _sweeping;
    private long _saturationLoggedAt;

    public LeakTracker(IsolationMonitor monitor, IsolationOptions options, TimeProvider time, ILogger logger)
    {
        _monitor = monitor;
        _level = options.LeakDetection;
        _samplingInterval = options.LeakSamplingInterval;
        _retentionGrace = options.RetainedAgentGracePeriod;
        _time = time;
        _logger = logger;
        _lastSweepGen2 = GC.CollectionCount(2);

        // A random phase, so the first tracked scope of a process is not always its 128th.
        _sampleCountdown = Random.Shared.Next(1, _samplingInterval + 1);
    }

    public LeakDetectionLevel Level => _level;

    public bool CapturesStackTraces => _level == LeakDetectionLevel.Paranoid;

    public int PendingAgents => Volatile.Read(ref _pendingCount);

    /// <summary>
    /// Whether the next scope is tracked. One countdown is shared by every thread of the process, so 1 in
    /// <c>LeakSamplingInterval</c> scopes is tracked however the scopes spread over threads — also when every scope is
    /// created on a thread of its own. The countdown is a plain field, read and written without a lock or an interlocked
    /// operation: two scopes created at the same instant may be counted once, or both tracked, which moves the rate by a
    /// hair and costs nothing (a thread-static countdown measured 18–25 ns per decision; this one about what Disabled costs).
    /// </summary>
    public bool ShouldTrackScope()
    {
        switch (_level)
        {
            case LeakDetectionLevel.Disabled:
                return false;
            case LeakDetectionLevel.Sampled:
                var countdown = _sampleCountdown - 1;
                if (countdown > 0)
                {
                    _sampleCountdown = countdown;
                    return false;
                }

                _sampleCountdown = _samplingInterval;
                return true;
            default:
                return true;
        }
    }

    public string? CaptureStackTrace() => CapturesStackTraces ? new StackTrace(2, fNeedFileInfo: true).ToString() : null;

    /// <summary>Creates the access records of an agent or session of a tracked scope.</summary>
    public AccessRecords CreateAccessRecords() => new(_time, CapturesStackTraces);

    public ScopeLeakSentinel CreateSentinel(UserExecutionContext context) =>
        CaptureStackTrace() is { } trace ? new TracingScopeLeakSentinel(_monitor, context, trace) : new ScopeLeakSentinel(_monitor, context);

    /// <summary>Remembers an agent whose scope just ended, to check later that nothing kept it.</summary>
    public void TrackEndedAgent(object agent, string agentType, IsolationScope scope, string? creationStackTrace)
    {
        if (Interlocked.Increment(ref _pendingCount) > MaxPendingAgents)
        {
            Interlocked.Decrement(ref _pendingCount);
            // Logged again at most once a minute while it lasts, so a saturated tracker neither floods nor goes quiet.
            var now = _time.GetUtcNow().UtcTicks;
            var last = Interlocked.Read(ref _saturationLoggedAt);
            if ((last == 0 || now - last >= SaturationLogIntervalTicks) && Interlocked.CompareExchange(ref _saturationLoggedAt, now, last) == last)
            {
                Log.LeakTrackingSaturated(_logger, MaxPendingAgents);
            }

            return;
        }

        _pending.Enqueue(new EndedAgent(
            new WeakReference<object>(agent), agentType, scope, creationStackTrace, _time.GetUtcNow(), Gen2AfterGrace: -1));
    }

    /// <summary>
    /// Called when a scope is created: when a full collection happened since the last sweep, queues a sweep on the thread
    /// pool, so the request that noticed never pays for it.
    /// </summary>
    public void OnScopeCreated()
    {
        if (Volatile.Read(ref _pendingCount) != 0 && GC.CollectionCount(2) != Volatile.Read(ref _lastSweepGen2) &&
            Volatile.Read(ref _sweeping) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static tracker => tracker.Sweep(), this, preferLocal: false);
        }
    }

    public int Sweep()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) != 0)
        {
            return 0;
        }

        try
        {
            var gen2 = GC.CollectionCount(2);
            Volatile.Write(ref _lastSweepGen2, gen2);
            var now = _time.GetUtcNow();
            var reported = 0;
            var count = _pending.Count;
            for (var i = 0; i < count && _pending.TryDequeue(out var entry); i++)
            {
                if (!entry.Agent.TryGetTarget(out var agent))
                {
                    Interlocked.Decrement(ref _pendingCount);
                    continue;
                }

                if (now - entry.EndedAt < _retentionGrace)
                {
                    _pending.Enqueue(entry);
                    continue;
                }

                // First seen past its grace period: only a full collection that starts after this moment proves anything
                // (one that ran while the agent was still legitimately referenced does not).
                if (entry.Gen2AfterGrace < 0)
                {
                    _pending.Enqueue(entry with { Gen2AfterGrace = gen2 });
                    continue;
                }

                // Alive through a full collection that started after the grace period: something long-lived holds it.
                if (gen2 > entry.Gen2AfterGrace)
                {
                    Interlocked.Decrement(ref _pendingCount);
                    reported++;
                    GC.KeepAlive(agent);

                    // Counted against the scope it belongs to, which ended long ago: the score drops for it.
                    entry.Scope.MarkViolated();
                    _monitor.Report(new IsolationViolation(
                        ViolationKind.AgentLeak,
                        entry.AgentType,
                        string.Format(
                            CultureInfo.InvariantCulture,
                            "Agent {0} created for {1} is still reachable {2:0.#} s after its scope ended, through a full garbage collection. Something long-lived (a static field, a singleton, a cache) keeps a reference to it, so the next request may see this user's state. Do not store agents outside their scope; resolve a new one per request with scope.GetAgent<T>().",
                            entry.AgentType,
                            entry.Scope.Context,
                            (now - entry.EndedAt).TotalSeconds) + ((agent as IsolatedAgent)?.Accesses?.Format() ?? string.Empty),
                        entry.Scope.Context,
                        otherContext: null,
                        entry.CreationStackTrace));
                    continue;
                }

                _pending.Enqueue(entry);
            }

            return reported;
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    private readonly record struct EndedAgent(
        WeakReference<object> Agent,
        string AgentType,
        IsolationScope Scope,
        string? CreationStackTrace,
        DateTimeOffset EndedAt,
        int Gen2AfterGrace);
}
