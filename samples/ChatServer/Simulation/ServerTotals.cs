using System.Diagnostics.Metrics;
using ChatServer.Dashboard;
using Isolation;
using Isolation.Redis;

namespace ChatServer.Simulation;

/// <summary>What the library measured on every node of the simulation, added up (one node: that node's figures).</summary>
internal sealed class ServerTotals(IReadOnlyList<IsolationMonitor> monitors, IReadOnlyList<IsolationMetricsAggregator> metrics)
{
    public long FinishedScopes => monitors.Sum(m => m.FinishedScopes);

    public long ScopesWithViolations => monitors.Sum(m => m.ScopesWithViolations);

    public IReadOnlyDictionary<string, long> RunsByStatus => Merge(metrics.Select(m => m.RunsByStatus));

    public IReadOnlyDictionary<string, long> DroppedByReason => Merge(metrics.Select(m => m.DroppedByReason));

    public long AgentsCreated => metrics.Sum(m => m.AgentsCreated);

    public long AgentCreationSamples => metrics.Sum(m => m.AgentCreationSamples);

    /// <summary>The score of all nodes' scopes together: the share of finished scopes without a violation.</summary>
    public double GetScore()
    {
        var finished = FinishedScopes;
        return finished == 0 ? 1d : (double)(finished - Math.Min(finished, ScopesWithViolations)) / finished;
    }

    public long GetViolationCount(ViolationKind kind) => monitors.Sum(m => m.GetViolationCount(kind));

    /// <summary>The agent creation percentile of the slowest node; <see langword="null"/> when no node has a sample.</summary>
    public double? AgentCreationPercentileMs(double percentile) => metrics.Max(m => m.AgentCreationPercentileMs(percentile));

    private static Dictionary<string, long> Merge(IEnumerable<IReadOnlyDictionary<string, long>> counts)
    {
        var merged = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var count in counts)
        {
            foreach (var (key, value) in count)
            {
                merged[key] = merged.GetValueOrDefault(key) + value;
            }
        }

        return merged;
    }
}

/// <summary>What crossed between the nodes through Redis, from the nodes' <c>Isolation.Redis</c> meters and drop reasons.</summary>
internal sealed record CrossNodeCounts(int Nodes, string Prefix, long Sent, long Received, long Refused, long Dropped)
{
    private static readonly string[] RefusedReasons =
    [
        RedisDropReasons.BackplaneForged, RedisDropReasons.BackplaneReplayed, RedisDropReasons.BackplaneStale,
        RedisDropReasons.BackplaneMisaddressed, RedisDropReasons.BackplaneMalformed,
    ];

    public static CrossNodeCounts From(int nodes, string prefix, IEnumerable<RedisCounters> counters, IReadOnlyDictionary<string, long> dropped)
    {
        long sent = 0;
        long received = 0;
        foreach (var c in counters)
        {
            sent += c.Sent;
            received += c.Received;
        }

        return new CrossNodeCounts(
            nodes,
            prefix,
            sent,
            received,
            RefusedReasons.Sum(r => dropped.GetValueOrDefault(r)),
            dropped.GetValueOrDefault(RedisDropReasons.BackplaneUnavailable) + dropped.GetValueOrDefault(RedisDropReasons.BackplaneQueueFull));
    }
}

/// <summary>Listens to one node's <c>Isolation.Redis</c> meter (only the instruments of that node's <see cref="IMeterFactory"/>).</summary>
internal sealed class RedisCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _sent;
    private long _received;

    public RedisCounters(IMeterFactory meterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RedisTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory) &&
                instrument.Name is RedisTelemetry.MessagesSent or RedisTelemetry.MessagesReceived)
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (instrument, value, _, state) =>
        {
            var counters = (RedisCounters)state!;
            if (instrument.Name == RedisTelemetry.MessagesSent)
            {
                Interlocked.Add(ref counters._sent, value);
            }
            else
            {
                Interlocked.Add(ref counters._received, value);
            }
        });
        _listener.Start();
    }

    public long Sent => Interlocked.Read(ref _sent);

    public long Received => Interlocked.Read(ref _received);

    public void Dispose() => _listener.Dispose();
}
