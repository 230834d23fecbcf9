using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Isolation;

namespace ChatServer.Dashboard;

/// <summary>
/// Listens to this application's <c>Isolation</c> meter (the instance made by its own <see cref="IMeterFactory"/>, so two
/// servers in one process, as in the tests, never mix) and keeps what the dashboard shows: active scopes and sessions,
/// runs by status, dropped events by reason, violations by kind, and recent agent creation times for percentiles. The
/// first creation of each agent type is counted but left out of the percentiles: it includes the JIT compilation of that
/// type's factory (tens of milliseconds), not the cost of creating an agent.
/// </summary>
public sealed class IsolationMetricsAggregator : IDisposable
{
    private const int LatencySamples = 2048;

    private readonly IMeterFactory _meterFactory;
    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<string, long> _runs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _dropped = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _violations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _activeSessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _agentTypesSeen = new(StringComparer.Ordinal);
    private readonly object _latencyLock = new();
    private readonly double[] _creation = new double[LatencySamples];
    private long _creationCount;
    private long _agentsCreated;
    private long _activeScopes;

    public IsolationMetricsAggregator(IMeterFactory meterFactory)
    {
        _meterFactory = meterFactory;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == IsolationTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, _meterFactory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>(OnLong);
        _listener.SetMeasurementEventCallback<double>(OnDouble);
        _listener.Start();
    }

    public long ActiveScopes => Interlocked.Read(ref _activeScopes);

    /// <summary>Gets how many agents were created, the first of each type included.</summary>
    public long AgentsCreated => Interlocked.Read(ref _agentsCreated);

    /// <summary>Gets how many creations the percentiles can draw on: all but the first of each type (at most the latest 2,048).</summary>
    public long AgentCreationSamples
    {
        get
        {
            lock (_latencyLock)
            {
                return Math.Min(_creationCount, LatencySamples);
            }
        }
    }

    public IReadOnlyDictionary<string, long> RunsByStatus => Snapshot(_runs);

    public IReadOnlyDictionary<string, long> DroppedByReason => Snapshot(_dropped);

    public IReadOnlyDictionary<string, long> ViolationsByKind => Snapshot(_violations);

    public IReadOnlyDictionary<string, long> ActiveSessionsByType => Snapshot(_activeSessions);

    /// <summary>
    /// Returns the given percentile (0–100) of the latest agent creation times, in milliseconds, the first creation of
    /// each type left out; <see langword="null"/> without samples.
    /// </summary>
    public double? AgentCreationPercentileMs(double percentile)
    {
        double[] copy;
        lock (_latencyLock)
        {
            var count = (int)Math.Min(_creationCount, LatencySamples);
            if (count == 0)
            {
                return null;
            }

            copy = _creation.AsSpan(0, count).ToArray();
        }

        Array.Sort(copy);
        var index = (int)Math.Ceiling(percentile / 100 * copy.Length) - 1;
        return copy[Math.Clamp(index, 0, copy.Length - 1)] * 1000;
    }

    public void Dispose() => _listener.Dispose();

    private static Dictionary<string, long> Snapshot(ConcurrentDictionary<string, long> source)
    {
        var copy = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, value) in source)
        {
            copy[key] = value;
        }

        return copy;
    }

    private static string TagValue(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value?.ToString() ?? "unknown";
            }
        }

        return "unknown";
    }

    private void OnLong(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        switch (instrument.Name)
        {
            case IsolationTelemetry.ScopeActive:
                Interlocked.Add(ref _activeScopes, value);
                break;
            case IsolationTelemetry.SessionActive:
                _activeSessions.AddOrUpdate(TagValue(tags, IsolationTelemetry.SessionTypeTag), value, (_, old) => old + value);
                break;
            case IsolationTelemetry.Runs:
                _runs.AddOrUpdate(TagValue(tags, IsolationTelemetry.RunStatusTag), value, (_, old) => old + value);
                break;
            case IsolationTelemetry.EventsDropped:
                _dropped.AddOrUpdate(TagValue(tags, IsolationTelemetry.DropReasonTag), value, (_, old) => old + value);
                break;
            case IsolationTelemetry.Violations:
                _violations.AddOrUpdate(TagValue(tags, IsolationTelemetry.ViolationKindTag), value, (_, old) => old + value);
                break;
        }
    }

    private void OnDouble(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (instrument.Name == IsolationTelemetry.AgentCreationDuration)
        {
            Interlocked.Increment(ref _agentsCreated);
            if (_agentTypesSeen.TryAdd(TagValue(tags, IsolationTelemetry.AgentTypeTag), true))
            {
                // The first of its type: JIT warm-up, not creation cost.
                return;
            }

            lock (_latencyLock)
            {
                _creation[(int)(_creationCount % LatencySamples)] = value;
                _creationCount++;
            }
        }
    }
}
