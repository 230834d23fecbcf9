using BenchmarkDotNet.Reports;

namespace Isolation.Benchmarks;

/// <summary>The goals of issue 17 (Isolation.AgentFramework), judged like <see cref="Goals"/>: differences between benchmarks of one run.</summary>
public static class AgentFrameworkGoals
{
    private const int MinimumMeasurements = 3;

    public static IEnumerable<string> Evaluate(IReadOnlyList<BenchmarkReport> reports)
    {
        var lines = new List<string>();
        var isolated = Find(reports, nameof(AgentRunBenchmark), nameof(AgentRunBenchmark.IsolatedAgent));
        var bare = Find(reports, nameof(AgentRunBenchmark), nameof(AgentRunBenchmark.BareAgent));
        Judge(lines, "agent run through IsolatedAIAgent adds <= 2 us and <= 1 KB over the bare ChatClientAgent", isolated, bare, (i, b) =>
            (Mean(i) - Mean(b) <= 2_000 && Bytes(i) - Bytes(b) <= 1_024,
             $"{Mean(i):0} ns vs {Mean(b):0} ns: {Mean(i) - Mean(b):+0;-0} ns, {Bytes(i) - Bytes(b):+0;-0} B"));

        foreach (var store in new[] { OwnerCheckBenchmark.StoreKind.Memory, OwnerCheckBenchmark.StoreKind.Sqlite })
        {
            var owner = Find(reports, nameof(OwnerCheckBenchmark), nameof(OwnerCheckBenchmark.OwnerChecked), "Store", store);
            var inner = Find(reports, nameof(OwnerCheckBenchmark), nameof(OwnerCheckBenchmark.InnerStore), "Store", store);
            Judge(lines, $"owner check adds <= 2 us per load + save ({store} store)", owner, inner, (o, i) =>
                (Mean(o) - Mean(i) <= 2_000,
                 $"{Mean(o):0} ns vs {Mean(i):0} ns: {Mean(o) - Mean(i):+0;-0} ns, {Bytes(o) - Bytes(i):+0;-0} B"));
        }

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
            if (descriptor.Type.Name == type && descriptor.WorkloadMethod.Name == method && report.ResultStatistics is not null
                && (parameter is null || Equals(report.BenchmarkCase.Parameters[parameter], value)))
            {
                return report;
            }
        }

        return null;
    }

    private static double Mean(BenchmarkReport report) => report.ResultStatistics!.Mean;

    private static long Bytes(BenchmarkReport report) => report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? -1;
}
