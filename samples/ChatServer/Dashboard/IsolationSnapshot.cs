using System.Text.Json.Serialization;
using ChatServer.Rollout;
using Isolation;
using Microsoft.Extensions.Options;

namespace ChatServer.Dashboard;

/// <summary>What <c>GET /api/isolation</c> returns: the dashboard's whole state in one poll.</summary>
public sealed record IsolationSnapshot(
    DateTimeOffset At,
    double Score,
    long FinishedScopes,
    long ScopesWithViolations,
    long ActiveScopes,
    long ActiveSessions,
    int Connections,
    int RunsInProgress,
    long TotalViolations,
    IReadOnlyDictionary<string, long> Violations,
    IReadOnlyDictionary<string, long> Leaks,
    IReadOnlyDictionary<string, long> Runs,
    IReadOnlyDictionary<string, long> EventsDropped,
    long AgentsCreated,
    double? AgentCreationP50Ms,
    double? AgentCreationP95Ms,
    int EnforcePercent,
    int ObservePercent,
    IReadOnlyList<ViolationItem> RecentViolations)
{
    public static IsolationSnapshot Capture(
        IsolationMonitor monitor,
        IsolationMetricsAggregator metrics,
        IConnectionRegistry connections,
        Realtime.ActiveRuns runs,
        ViolationFeed feed,
        IOptionsMonitor<RolloutOptions> rollout,
        TimeProvider time)
    {
        var violations = new Dictionary<string, long>(StringComparer.Ordinal);
        var leaks = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var kind in Enum.GetValues<ViolationKind>())
        {
            (kind.IsLeak() ? leaks : violations)[kind.ToTagValue()] = monitor.GetViolationCount(kind);
        }

        long sessions = 0;
        foreach (var (_, count) in metrics.ActiveSessionsByType)
        {
            sessions += count;
        }

        var runsByStatus = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["completed"] = 0, ["failed"] = 0, ["timed_out"] = 0, ["cancelled"] = 0, ["rejected"] = 0,
        };
        foreach (var (status, count) in metrics.RunsByStatus)
        {
            runsByStatus[status] = count;
        }

        return new IsolationSnapshot(
            time.GetUtcNow(),
            monitor.GetScore(),
            monitor.FinishedScopes,
            monitor.ScopesWithViolations,
            metrics.ActiveScopes,
            sessions,
            connections.ConnectionCount,
            runs.Count,
            monitor.TotalViolations,
            violations,
            leaks,
            runsByStatus,
            metrics.DroppedByReason,
            metrics.AgentsCreated,
            metrics.AgentCreationPercentileMs(50),
            metrics.AgentCreationPercentileMs(95),
            rollout.CurrentValue.EnforcePercent,
            rollout.CurrentValue.ObservePercent,
            feed.Latest());
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(IsolationSnapshot))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
