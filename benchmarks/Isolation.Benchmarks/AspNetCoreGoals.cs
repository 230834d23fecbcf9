using BenchmarkDotNet.Reports;

namespace Isolation.Benchmarks;

/// <summary>The goals of issue 15 (Isolation.AspNetCore), judged like <see cref="Goals"/>: ratios and differences within one run.</summary>
public static class AspNetCoreGoals
{
    public static IEnumerable<string> Evaluate(IReadOnlyList<BenchmarkReport> reports)
    {
        var lines = new List<string>();
        var feature = Find(reports, nameof(FeatureModeProviderBenchmark), nameof(FeatureModeProviderBenchmark.FeatureFlagMode));
        var mode = Find(reports, nameof(FeatureModeProviderBenchmark), nameof(FeatureModeProviderBenchmark.DefaultMode));
        if (feature is not null && mode is not null)
        {
            var extra = Mean(feature) - Mean(mode);
            var bytes = Bytes(feature) - Bytes(mode);
            lines.Add($"{(extra <= 50 && bytes == 0 ? "MET" : "MISSED")}: feature-flag mode <= 50 ns and 0 B per scope over the default provider — {Mean(feature):0} vs {Mean(mode):0} ns: {extra:+0;-0} ns, {bytes:+0;-0} B");
        }

        var lookup = Find(reports, nameof(FeatureModeLookupBenchmark), nameof(FeatureModeLookupBenchmark.FeatureFlagMode));
        var configured = Find(reports, nameof(FeatureModeLookupBenchmark), nameof(FeatureModeLookupBenchmark.ConfiguredMode));
        if (lookup is not null && configured is not null)
        {
            var extra = Mean(lookup) - Mean(configured);
            var bytes = Bytes(lookup) - Bytes(configured);
            lines.Add($"{(extra <= 50 && bytes == 0 ? "MET" : "MISSED")}: feature-flag mode lookup alone <= 50 ns and 0 B over the configured mode — {Mean(lookup):0.0} vs {Mean(configured):0.0} ns: {extra:+0.0;-0.0} ns, {bytes:+0;-0} B");
        }

        var isolated = Find(reports, nameof(HubInvocationBenchmark), nameof(HubInvocationBenchmark.IsolatedHub));
        var plain = Find(reports, nameof(HubInvocationBenchmark), nameof(HubInvocationBenchmark.PlainHub));
        if (isolated is not null && plain is not null)
        {
            var ratio = Mean(isolated) / Mean(plain);
            lines.Add($"{(ratio <= 1.3 ? "MET" : "MISSED")}: hub invocation with the isolation filter <= 1.3x without — {Mean(isolated) / 1000:0.0} vs {Mean(plain) / 1000:0.0} us: {ratio:0.00}x");
        }

        var sink = Find(reports, nameof(SignalRDeliveryBenchmark), nameof(SignalRDeliveryBenchmark.RegistryToSignalRSink));
        var direct = Find(reports, nameof(SignalRDeliveryBenchmark), nameof(SignalRDeliveryBenchmark.PlainClientsClient));
        if (sink is not null && direct is not null)
        {
            lines.Add($"REPORTED: delivery to one SignalR connection among 1,000 through the registry vs a plain Clients.Client send (no goal) — {Mean(sink) / 1000:0.0} vs {Mean(direct) / 1000:0.0} us: {Mean(sink) / Mean(direct):0.00}x");
        }

        return lines;
    }

    private static BenchmarkReport? Find(IReadOnlyList<BenchmarkReport> reports, string type, string method) =>
        reports.FirstOrDefault(r => r.BenchmarkCase.Descriptor.Type.Name == type && r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method && r.ResultStatistics is not null);

    private static double Mean(BenchmarkReport report) => report.ResultStatistics!.Mean;

    private static long Bytes(BenchmarkReport report) => report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? 0;
}
