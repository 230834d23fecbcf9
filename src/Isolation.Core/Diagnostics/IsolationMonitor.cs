using System.Diagnostics.Metrics;
using Isolation.Diagnostics;
using Isolation.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Isolation;

/// <summary>
/// The process-wide view of isolation: every violation and leak is reported here (and to logs and metrics),
/// and it keeps the counts behind the isolation score. Resolve it from DI to subscribe to its events.
/// </summary>
/// <example>
/// <code>
/// var monitor = app.Services.GetRequiredService&lt;IsolationMonitor&gt;();
/// monitor.LeakDetected += (_, e) => alerts.Raise(e.Violation.Message);
/// </code>
/// </example>
public sealed class IsolationMonitor
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private LastViolationInfo? _lastViolation;
    private readonly long[] _violationCounts = new long[Enum.GetValues<ViolationKind>().Length];
    private long _finishedScopes;
    private long _scopesWithViolations;

    internal IsolationMonitor(
        IMeterFactory meterFactory,
        ILoggerFactory? loggerFactory,
        IOptions<IsolationOptions> options,
        TimeProvider timeProvider,
        bool trackCreationLatency = false)
    {
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Isolation");
        _time = timeProvider;
        Metrics = new IsolationMetrics(meterFactory, this);
        Leaks = new LeakTracker(this, options.Value, timeProvider, _logger);
        if (trackCreationLatency)
        {
            CreationLatencies = new LatencyReservoir(1024);
        }
    }

    /// <summary>Raised for every violation, leaks included, in every mode but <see cref="IsolationMode.Off"/>. Handlers run on the thread that found it and must be quick; an exception from a handler is logged and ignored.</summary>
    public event EventHandler<IsolationViolationEventArgs>? ViolationDetected;

    /// <summary>Raised for every leak (<see cref="ViolationKind.SessionLeak"/>, <see cref="ViolationKind.AgentLeak"/>, <see cref="ViolationKind.ScopeLeak"/>), after <see cref="ViolationDetected"/>. A scope leak is found on the finalizer thread.</summary>
    public event EventHandler<IsolationViolationEventArgs>? LeakDetected;

    /// <summary>Gets how many scopes have ended: disposed, or found never disposed by the garbage collector (a scope leak, counted also in <see cref="ScopesWithViolations"/>).</summary>
    public long FinishedScopes => Interlocked.Read(ref _finishedScopes);

    /// <summary>Gets how many finished scopes had at least one violation (counted also when it is found after the scope ended).</summary>
    public long ScopesWithViolations => Interlocked.Read(ref _scopesWithViolations);

    /// <summary>Gets how many violations of all kinds were reported.</summary>
    public long TotalViolations
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _violationCounts.Length; i++)
            {
                total += Interlocked.Read(ref _violationCounts[i]);
            }

            return total;
        }
    }

    internal IsolationMetrics Metrics { get; }

    internal LeakTracker Leaks { get; }

    internal ILogger Logger => _logger;

    /// <summary>The most recent agent creation times, kept only when the health check is registered.</summary>
    internal LatencyReservoir? CreationLatencies { get; }

    /// <summary>When the last violation was reported, and what it was.</summary>
    internal LastViolationInfo? LastViolation => Volatile.Read(ref _lastViolation);

    /// <summary>Returns how many violations of <paramref name="kind"/> were reported.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The count since start.</returns>
    public long GetViolationCount(ViolationKind kind) => Interlocked.Read(ref _violationCounts[(int)kind]);

    /// <summary>Returns the isolation score: the share of finished scopes with no violation, 1 when none has finished yet.</summary>
    /// <returns>A value from 0 to 1.</returns>
    public double GetScore()
    {
        var finished = FinishedScopes;
        if (finished == 0)
        {
            return 1d;
        }

        var clean = finished - Math.Min(finished, ScopesWithViolations);
        return (double)clean / finished;
    }

    /// <summary>
    /// Runs the garbage-collection based leak checks now. An agent is reported as <see cref="ViolationKind.AgentLeak"/>
    /// when it is still reachable after a full (generation 2) collection that started after a check had seen its
    /// retention grace period over: a collection that ran while the agent was still legitimately referenced proves
    /// nothing. So from a test or a drain step: call this, collect, and call it again. The checks also run by themselves,
    /// on the thread pool, when scopes are created after a full collection.
    /// </summary>
    /// <returns>How many leaks this check reported.</returns>
    public int CheckForLeaks() => Leaks.Sweep();

    /// <summary>
    /// Reports a violation that belongs to no live scope (a resource used outside any scope, or found after its scope
    /// ended): counted, logged, raised on <see cref="ViolationDetected"/> (and <see cref="LeakDetected"/> for leaks). Never
    /// throws; to throw in <see cref="IsolationMode.Enforce"/>, report through <see cref="IsolationScope.ReportViolation"/>.
    /// </summary>
    /// <param name="violation">The violation.</param>
    /// <exception cref="ArgumentNullException"><paramref name="violation"/> is <see langword="null"/>.</exception>
    public void ReportViolation(IsolationViolation violation) => Report(Guard.NotNull(violation));

    internal void Report(IsolationViolation violation)
    {
        Interlocked.Increment(ref _violationCounts[(int)violation.Kind]);
        Volatile.Write(ref _lastViolation, new LastViolationInfo(_time.GetUtcNow(), violation.Kind, violation.ResourceType));
        Metrics.Violation(violation.Kind);
        var kind = violation.Kind.ToTagValue();
        if (violation.Kind.IsLeak())
        {
            Log.Leak(_logger, kind, violation.ResourceType, violation.Message,
                violation.CreationStackTrace is null ? string.Empty : Environment.NewLine + "Created at:" + Environment.NewLine + violation.CreationStackTrace);
        }
        else
        {
            Log.Violation(_logger, kind, violation.ResourceType, violation.Message);
        }

        Raise(ViolationDetected, violation, nameof(ViolationDetected));
        if (violation.Kind.IsLeak())
        {
            Raise(LeakDetected, violation, nameof(LeakDetected));
        }
    }

    internal void ScopeFinished(bool hadViolations)
    {
        Interlocked.Increment(ref _finishedScopes);
        if (hadViolations)
        {
            Interlocked.Increment(ref _scopesWithViolations);
        }

        Metrics.ScopeCounted(hadViolations);
    }

    internal void FinishedScopeBecameDirty()
    {
        Interlocked.Increment(ref _scopesWithViolations);
        Metrics.ScopeViolatedLate();
    }

    private void Raise(EventHandler<IsolationViolationEventArgs>? handlers, IsolationViolation violation, string eventName)
    {
        if (handlers is null)
        {
            return;
        }

        var args = new IsolationViolationEventArgs(violation);
        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((EventHandler<IsolationViolationEventArgs>)handler)(this, args);
            }
#pragma warning disable CA1031 // A subscriber's bug must not turn a report into a crash of the reporting request.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.HandlerFailed(_logger, ex, eventName);
            }
        }
    }

    internal sealed record LastViolationInfo(DateTimeOffset At, ViolationKind Kind, string ResourceType);
}
