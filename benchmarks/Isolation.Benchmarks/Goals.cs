using System.Globalization;
using BenchmarkDotNet.Reports;

namespace Isolation.Benchmarks;

/// <summary>
/// The goals of issue 8, checked against the reports of one run (ratios between benchmarks of the same run, so the machine's
/// speed cancels out). A goal whose benchmarks were not run is skipped; one with too few measurements is not judged.
/// </summary>
public static class Goals
{
    private const int MinimumMeasurements = 3;

    public static IEnumerable<string> Evaluate(IReadOnlyList<BenchmarkReport> reports)
    {
        var lines = new List<string>();
        foreach (var dependencies in new[] { 0, 3, 6, 12 })
        {
            var fresh = Find(reports, nameof(AgentCreationBenchmark), nameof(AgentCreationBenchmark.Isolated), "Dependencies", dependencies);
            var di = Find(reports, nameof(AgentCreationBenchmark), nameof(AgentCreationBenchmark.DiTransient), "Dependencies", dependencies);
            Judge(lines, $"fresh agent creation (scope.GetAgent) <= 1.1x DI transient resolve ({dependencies} dependencies)", fresh, di, (f, d) =>
                (Mean(f) / Mean(d) <= 1.1, $"{Ns(f)} vs {Ns(d)}: {Mean(f) / Mean(d):0.00}x"));
        }

        foreach (var dependencies in new[] { 0, 3, 6 })
        {
            var pooled = Find(reports, nameof(PooledAgentBenchmark), nameof(PooledAgentBenchmark.ScopeWithPooledAgent), "Dependencies", dependencies);
            var scopeOnly = Find(reports, nameof(PooledAgentBenchmark), nameof(PooledAgentBenchmark.ScopeOnly), "Dependencies", dependencies);
            Judge(lines, $"pooled agent path allocation-free ({dependencies} dependencies)", pooled, scopeOnly, (p, s) =>
                (Bytes(p) == Bytes(s), $"scope + pooled agent {Bytes(p)} B, scope alone {Bytes(s)} B; get + reset + return {Mean(p) - Mean(s):0} ns"));
        }

        var enter = Find(reports, nameof(SessionGuardEnterBenchmark), nameof(SessionGuardEnterBenchmark.Enter));
        Judge(lines, "guard enter/exit <= 20 ns and 0 B", enter, enter, (e, _) =>
            (Mean(e) <= 20 && Bytes(e) == 0, $"{Mean(e):0.0} ns, {Bytes(e)} B"));

        foreach (var session in new[] { TurnBenchmark.SessionKind.Conversation, TurnBenchmark.SessionKind.Sqlite })
        {
            var isolated = Find(reports, nameof(TurnBenchmark), nameof(TurnBenchmark.IsolatedTurn), "Session", session);
            var unisolated = Find(reports, nameof(TurnBenchmark), nameof(TurnBenchmark.UnisolatedTurn), "Session", session);
            Judge(lines, $"whole isolated turn <= 2 us over the unisolated turn ({session} session)", isolated, unisolated, (i, u) =>
                (Mean(i) - Mean(u) <= 2_000, $"{Ns(i)} vs {Ns(u)}: {Mean(i) - Mean(u):+0;-0} ns (error +-{Error(i) + Error(u):0} ns), {Bytes(i) - Bytes(u):+0;-0} B"));
        }

        foreach (var yields in new[] { false, true })
        {
            var scopeOnly = Find(reports, nameof(RunnerBenchmark), nameof(RunnerBenchmark.ScopeOnly), "Yields", yields);
            var runner = Find(reports, nameof(RunnerBenchmark), nameof(RunnerBenchmark.Runner), "Yields", yields);
            var polly = Find(reports, nameof(RunnerBenchmark), nameof(RunnerBenchmark.Polly), "Yields", yields);
            var work = yields ? "work awaiting once" : "work completing synchronously";
            Judge(lines, $"runner <= 2 us and 512 B over the scope alone ({work})", runner, scopeOnly, (r, s) =>
                (Mean(r) - Mean(s) <= 2_000 && Bytes(r) - Bytes(s) <= 512, $"{Ns(r)} vs {Ns(s)}: {Mean(r) - Mean(s):+0;-0} ns (error +-{Error(r) + Error(s):0} ns), {Bytes(r) - Bytes(s):+0;-0} B"));
            if (polly is not null && scopeOnly is not null)
            {
                Judge(lines, $"runner overhead <= a Polly v8 pipeline's (timeout + per-user concurrency limiter; {work})", runner, polly, (r, p) =>
                    (Mean(r) <= Mean(p) && Bytes(r) <= Bytes(p), $"runner {Mean(r) - Mean(scopeOnly):+0;-0} ns {Bytes(r) - Bytes(scopeOnly):+0;-0} B, Polly {Mean(p) - Mean(scopeOnly):+0;-0} ns {Bytes(p) - Bytes(scopeOnly):+0;-0} B over the scope alone"));
            }
        }

        foreach (var (rawName, guardedName, what) in new[]
        {
            (nameof(SessionGuardBenchmark.RawExecuteScalar), nameof(SessionGuardBenchmark.GuardedExecuteScalar), "ExecuteScalar"),
            (nameof(SessionGuardBenchmark.RawExecuteScalarAsync), nameof(SessionGuardBenchmark.GuardedExecuteScalarAsync), "ExecuteScalarAsync"),
        })
        {
            var raw = Find(reports, nameof(SessionGuardBenchmark), rawName);
            var guarded = Find(reports, nameof(SessionGuardBenchmark), guardedName);
            Judge(lines, $"guarded {what} <= 3x raw and no extra bytes (SQLite in memory)", guarded, raw, (g, r) =>
                (Mean(g) / Mean(r) <= 3 && Bytes(g) <= Bytes(r), $"{Ns(g)} vs {Ns(r)}: {Mean(g) / Mean(r):0.00}x, {Bytes(g) - Bytes(r):+0;-0} B"));
        }

        var victimAlone = Find(reports, nameof(RunnerLoadBenchmark), nameof(RunnerLoadBenchmark.VictimRun), "Hammering", false);
        var victimHammered = Find(reports, nameof(RunnerLoadBenchmark), nameof(RunnerLoadBenchmark.VictimRun), "Hammering", true);
        Judge(lines, "a user's run with another user hammering the runner <= 10x its run alone", victimHammered, victimAlone, (h, a) =>
            (Mean(h) / Mean(a) <= 10, $"{Ns(h)} vs {Ns(a)}: {Mean(h) / Mean(a):0.00}x"));

        var othersAlone = Find(reports, nameof(StalledClientBenchmark), nameof(StalledClientBenchmark.OthersRound), "Stalled", false);
        var othersStalled = Find(reports, nameof(StalledClientBenchmark), nameof(StalledClientBenchmark.OthersRound), "Stalled", true);
        Judge(lines, "other users' events with a stalled client <= 10x without it", othersStalled, othersAlone, (w, wo) =>
            (Mean(w) / Mean(wo) <= 10, $"{Ns(w)} vs {Ns(wo)}: {Mean(w) / Mean(wo):0.00}x"));

        foreach (var draining in new[] { false, true })
        {
            var sink = Find(reports, nameof(SinkEnqueueBenchmark), nameof(SinkEnqueueBenchmark.Sink), "Draining", draining);
            var channel = Find(reports, nameof(SinkEnqueueBenchmark), nameof(SinkEnqueueBenchmark.BoundedChannel), "Draining", draining);
            var writer = draining ? "writer sending on the other core" : "writer parked in a send";
            Judge(lines, $"WebSocketEventSink enqueue with a send in flight <= 100 ns ({writer})", sink, channel, (s, c) =>
                (Mean(s) <= 100, $"{Ns(s)} (a bare bounded channel: {Ns(c)}), {Bytes(s)} B"));
        }

        var localWithout = Find(reports, nameof(RedisLocalDeliveryBenchmark), nameof(RedisLocalDeliveryBenchmark.WithoutRedis));
        var localWith = Find(reports, nameof(RedisLocalDeliveryBenchmark), nameof(RedisLocalDeliveryBenchmark.WithRedis));
        Judge(lines, "local delivery with Redis configured <= 1.2x without (a user whose connections are all here)", localWith, localWithout, (w, wo) =>
            (Mean(w) / Mean(wo) <= 1.2, $"{Ns(w)} vs {Ns(wo)}: {Mean(w) / Mean(wo):0.00}x, {Bytes(w) - Bytes(wo):+0;-0} B"));

        var idle = Find(reports, nameof(MemoryAtScaleBenchmark), nameof(MemoryAtScaleBenchmark.IdleConnections));
        var plainChannels = Find(reports, nameof(MemoryAtScaleBenchmark), nameof(MemoryAtScaleBenchmark.PlainChannels));
        Judge(lines, $"<= 2 KB per registered idle connection ({MemoryAtScaleBenchmark.Connections:N0} WebSocket sinks)", idle, plainChannels, (i, p) =>
            (Bytes(i) <= 2_048, $"{Bytes(i)} B per connection (a plain per-user channel: {Bytes(p)} B)"));
        var inFlight = Find(reports, nameof(MemoryAtScaleBenchmark), nameof(MemoryAtScaleBenchmark.InFlightRuns));
        Judge(lines, $"bytes per in-flight run ({MemoryAtScaleBenchmark.Runs:N0} runs waiting at once; reported, no goal)", inFlight, inFlight, (r, _) =>
            (true, $"{Bytes(r)} B per run"));

        var few = Find(reports, nameof(EventDeliveryBenchmark), nameof(EventDeliveryBenchmark.Registry), "Connections", 100);
        var many = Find(reports, nameof(EventDeliveryBenchmark), nameof(EventDeliveryBenchmark.Registry), "Connections", 10_000);
        Judge(lines, "delivery independent of other users' connections (10,000 vs 100 within 1.5x)", many, few, (m, f) =>
            (Mean(m) / Mean(f) <= 1.5, $"{Ns(m)} at 10,000 vs {Ns(f)} at 100: {Mean(m) / Mean(f):0.00}x"));

        foreach (var mode in new[] { IsolationMode.Off, IsolationMode.Enforce })
        {
            var isolated = Find(reports, nameof(ScopeBenchmark), nameof(ScopeBenchmark.IsolationScope), ("Mode", mode), ("Leaks", LeakDetectionLevel.Sampled));
            var plain = Find(reports, nameof(ScopeBenchmark), nameof(ScopeBenchmark.ServiceScope), ("Mode", mode), ("Leaks", LeakDetectionLevel.Sampled));
            Judge(lines, $"scope create + dispose <= 2x and <= 256 B of a bare DI scope ({mode}, Sampled)", isolated, plain, (i, d) =>
                (Mean(i) / Mean(d) <= 2 && Bytes(i) <= 256, $"{Ns(i)} vs {Ns(d)}: {Mean(i) / Mean(d):0.00}x, {Bytes(i)} B vs {Bytes(d)} B"));
            var current = Find(reports, nameof(ScopeBenchmark), nameof(ScopeBenchmark.ServiceScopeMadeCurrent), ("Mode", mode), ("Leaks", LeakDetectionLevel.Sampled));
            Judge(lines, $"the floor: a bare DI scope made current in an AsyncLocal and back ({mode}, Sampled; reported, no goal)", current, plain, (c, d) =>
                (true, $"{Ns(c)} vs {Ns(d)}: {Mean(c) / Mean(d):0.00}x, {Bytes(c)} B"));
        }

        foreach (var scopedDependency in new[] { false, true })
        {
            foreach (var concurrency in new[] { 100, 1_000 })
            {
                var scopes = Find(reports, nameof(ConcurrencyBenchmark), nameof(ConcurrencyBenchmark.IsolationScopes), ("Concurrency", concurrency), ("ScopedDependency", scopedDependency));
                var raw = Find(reports, nameof(ConcurrencyBenchmark), nameof(ConcurrencyBenchmark.ServiceScopes), ("Concurrency", concurrency), ("ScopedDependency", scopedDependency));
                var agent = scopedDependency ? "an agent with one scoped dependency" : "an agent without dependencies";
                Judge(lines, $"{concurrency} concurrent isolated scopes >= 0.8x the throughput of plain DI scopes ({agent})", scopes, raw, (s, r) =>
                    (Mean(r) / Mean(s) >= 0.8, $"{Mean(r) / Mean(s):0.00}x the throughput ({Mean(s) / concurrency:0} vs {Mean(r) / concurrency:0} ns, {Bytes(s) / concurrency} vs {Bytes(r) / concurrency} B per request)"));
                var current = Find(reports, nameof(ConcurrencyBenchmark), nameof(ConcurrencyBenchmark.ServiceScopesMadeCurrent), ("Concurrency", concurrency), ("ScopedDependency", scopedDependency));
                Judge(lines, $"the floor: {concurrency} concurrent DI scopes made current in an AsyncLocal ({agent}; reported, no goal)", current, raw, (c, r) =>
                    (true, $"{Mean(r) / Mean(c):0.00}x the throughput ({Mean(c) / concurrency:0} vs {Mean(r) / concurrency:0} ns, {Bytes(c) / concurrency} B per request)"));
            }
        }

        foreach (var (plainName, isolatedName, what) in new[]
        {
            (nameof(DbContextBenchmark.SaveChangesPlain), nameof(DbContextBenchmark.SaveChangesIsolated), "SaveChanges of one entity"),
            (nameof(DbContextBenchmark.QueryPlain), nameof(DbContextBenchmark.QueryIsolated), "single-row query"),
        })
        {
            var plain = Find(reports, nameof(DbContextBenchmark), plainName);
            var isolated = Find(reports, nameof(DbContextBenchmark), isolatedName);
            Judge(lines, $"UseIsolation() adds <= 3 % or <= 1 us, whichever is larger ({what}, SQLite in memory)", isolated, plain, (i, p) =>
                (Mean(i) - Mean(p) <= Math.Max(0.03 * Mean(p), 1_000), $"{Ns(i)} vs {Ns(p)}: {Mean(i) - Mean(p):+0;-0} ns ({(Mean(i) / Mean(p)) - 1:+0.0%;-0.0%}), {Bytes(i) - Bytes(p):+0;-0} B"));
        }

        var rentChecked = Find(reports, nameof(DbContextPoolBenchmark), nameof(DbContextPoolBenchmark.RentReturnChecked));
        var rentPlain = Find(reports, nameof(DbContextPoolBenchmark), nameof(DbContextPoolBenchmark.RentReturnPlain));
        Judge(lines, "pooled context rent/return with the pristine check <= 1.2x plain AddDbContextPool", rentChecked, rentPlain, (c, p) =>
            (Mean(c) / Mean(p) <= 1.2, $"{Ns(c)} vs {Ns(p)}: {Mean(c) / Mean(p):0.00}x, {Bytes(c) - Bytes(p):+0;-0} B"));

        return lines;
    }

    private static void Judge(List<string> lines, string goal, BenchmarkReport? a, BenchmarkReport? b, Func<BenchmarkReport, BenchmarkReport, (bool Met, string Measured)> check)
    {
        if (a is null || b is null)
        {
            return;
        }

        if (a.ResultStatistics!.N < MinimumMeasurements || b.ResultStatistics!.N < MinimumMeasurements)
        {
            lines.Add($"NOT JUDGED  {goal}: fewer than {MinimumMeasurements} measurements (a dry run)");
            return;
        }

        var (met, measured) = check(a, b);
        lines.Add($"{(met ? "MET   " : "MISSED")}      {goal}: {measured}");
    }

    private static BenchmarkReport? Find(IReadOnlyList<BenchmarkReport> reports, string type, string method, string? parameter = null, object? value = null)
    {
        foreach (var report in reports)
        {
            var descriptor = report.BenchmarkCase.Descriptor;
            if (descriptor.Type.Name != type || descriptor.WorkloadMethod.Name != method || report.ResultStatistics is null)
            {
                continue;
            }

            if (parameter is null || Equals(report.BenchmarkCase.Parameters[parameter], value))
            {
                return report;
            }
        }

        return null;
    }

    private static BenchmarkReport? Find(IReadOnlyList<BenchmarkReport> reports, string type, string method, params (string Name, object Value)[] parameters) =>
        reports.FirstOrDefault(r =>
            r.BenchmarkCase.Descriptor.Type.Name == type &&
            r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method &&
            r.ResultStatistics is not null &&
            parameters.All(p => Equals(r.BenchmarkCase.Parameters[p.Name], p.Value)));

    private static double Mean(BenchmarkReport report) => report.ResultStatistics!.Mean;

    // Half of the 99.9% confidence interval, as in BenchmarkDotNet's Error column.
    private static double Error(BenchmarkReport report) => report.ResultStatistics!.ConfidenceInterval.Margin;

    private static long Bytes(BenchmarkReport report) => report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? -1;

    private static string Ns(BenchmarkReport report) => Mean(report) >= 10_000
        ? (Mean(report) / 1_000).ToString("0.0 'us'", CultureInfo.InvariantCulture)
        : Mean(report).ToString("0.0 'ns'", CultureInfo.InvariantCulture);
}
