using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Isolation.Diagnostics;

/// <summary>The library's instruments, created once per service provider through <see cref="IMeterFactory"/>.</summary>
internal sealed class IsolationMetrics
{
    private static readonly KeyValuePair<string, object?> PooledTrue = new(IsolationTelemetry.AgentPooledTag, "true");
    private static readonly KeyValuePair<string, object?> PooledFalse = new(IsolationTelemetry.AgentPooledTag, "false");

    private readonly UpDownCounter<long> _scopeActive;
    private readonly Histogram<double> _scopeDuration;
    private readonly Histogram<double> _agentCreation;
    private readonly Counter<long> _violations;
    private readonly Counter<long> _scopesFinished;
    private readonly Counter<long> _scopesViolated;

    public IsolationMetrics(IMeterFactory meterFactory, IsolationMonitor monitor)
    {
        Meter = meterFactory.Create(IsolationTelemetry.MeterName);
        _scopeActive = Meter.CreateUpDownCounter<long>(
            IsolationTelemetry.ScopeActive, unit: "{scope}", description: "Number of isolation scopes currently alive.");
        _scopeDuration = Meter.CreateHistogram<double>(
            IsolationTelemetry.ScopeDuration, unit: "s", description: "How long isolation scopes lived, from creation to disposal.");
        _agentCreation = Meter.CreateHistogram<double>(
            IsolationTelemetry.AgentCreationDuration, unit: "s", description: "How long creating or renting one agent took.");
        _violations = Meter.CreateCounter<long>(
            IsolationTelemetry.Violations, unit: "{violation}", description: "Isolation violations and leaks detected, by kind.");
        _scopesFinished = Meter.CreateCounter<long>(
            IsolationTelemetry.ScopesFinished, unit: "{scope}", description: "Isolation scopes that ended: the isolation score's denominator.");
        _scopesViolated = Meter.CreateCounter<long>(
            IsolationTelemetry.ScopesViolated, unit: "{scope}", description: "Isolation scopes counted as violated, when they ended or when a violation of theirs was found later: the isolation score's numerator of failures.");
        Meter.CreateObservableGauge(
            IsolationTelemetry.Score, monitor.GetScore, unit: "1", description: "Share of finished isolation scopes that had no violation (0 to 1).");
    }

    public Meter Meter { get; }

    public bool AgentCreationEnabled => _agentCreation.Enabled;

    public void ScopeStarted() => _scopeActive.Add(1);

    /// <summary>Gets a value indicating whether scope durations are recorded (a scope reads the clock at its start only then).</summary>
    public bool TimesScopes => _scopeDuration.Enabled;

    /// <summary>Counts a scope that ended; records its duration when it was timed from its start (see <see cref="TimesScopes"/>).</summary>
    public void ScopeEnded(long startTimestamp, string status)
    {
        _scopeActive.Add(-1);
        if (startTimestamp != 0 && _scopeDuration.Enabled)
        {
            _scopeDuration.Record(
                Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
                new KeyValuePair<string, object?>(IsolationTelemetry.RunStatusTag, status));
        }
    }

    /// <summary>Counts a scope that ended, and whether it was violated by then.</summary>
    public void ScopeCounted(bool violated)
    {
        _scopesFinished.Add(1);
        if (violated)
        {
            _scopesViolated.Add(1);
        }
    }

    /// <summary>Counts a scope that had ended clean and was found violated afterwards.</summary>
    public void ScopeViolatedLate() => _scopesViolated.Add(1);

    public void AgentCreated(string agentType, bool pooled, double seconds) =>
        _agentCreation.Record(
            seconds,
            new KeyValuePair<string, object?>(IsolationTelemetry.AgentTypeTag, agentType),
            pooled ? PooledTrue : PooledFalse);

    public void Violation(ViolationKind kind) =>
        _violations.Add(1, new KeyValuePair<string, object?>(IsolationTelemetry.ViolationKindTag, kind.ToTagValue()));
}
