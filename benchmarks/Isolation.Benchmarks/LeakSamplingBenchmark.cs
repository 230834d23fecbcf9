using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Reports;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// One isolation scope created and disposed in Enforce with <c>LeakDetection = Disabled</c> (the baseline) against
/// <c>Sampled</c> at the default interval (1 in 128 scopes tracked): what sampling costs the scopes it does not track,
/// plus its share of the ones it does.
/// </summary>
public class LeakSamplingBenchmark
{
    private ServiceProvider _disabledProvider = null!;
    private ServiceProvider _sampledProvider = null!;
    private IIsolationScopeFactory _disabled = null!;
    private IIsolationScopeFactory _sampled = null!;
    private UserExecutionContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        _disabledProvider = Build(LeakDetectionLevel.Disabled);
        _sampledProvider = Build(LeakDetectionLevel.Sampled);
        _disabled = _disabledProvider.GetRequiredService<IIsolationScopeFactory>();
        _sampled = _sampledProvider.GetRequiredService<IIsolationScopeFactory>();
        _context = new UserExecutionContext("bench");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _disabledProvider.Dispose();
        _sampledProvider.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Disabled()
    {
        using var scope = _disabled.CreateScope(_context);
    }

    [Benchmark]
    public void Sampled()
    {
        using var scope = _sampled.CreateScope(_context);
    }

    private static ServiceProvider Build(LeakDetectionLevel level) =>
        new ServiceCollection().AddIsolation(o =>
        {
            o.Mode = IsolationMode.Enforce;
            o.LeakDetection = level;
        }).BuildServiceProvider();
}

/// <summary>The goal of issue 12 item 3, judged like <see cref="Goals"/>: a difference within one run.</summary>
public static class LeakSamplingGoals
{
    public static IEnumerable<string> Evaluate(IReadOnlyList<BenchmarkReport> reports) =>
        EvaluateDecision(reports).Concat(EvaluateScope(reports));

    /// <summary>The judgeable form of the goal: the sampling decision alone, Sampled against Disabled, in ns per decision.</summary>
    private static IEnumerable<string> EvaluateDecision(IReadOnlyList<BenchmarkReport> reports)
    {
        var sampled = Find(reports, nameof(LeakSamplingDecisionBenchmark), nameof(LeakSamplingDecisionBenchmark.DecideSampled));
        var disabled = Find(reports, nameof(LeakSamplingDecisionBenchmark), nameof(LeakSamplingDecisionBenchmark.DecideDisabled));
        if (sampled is null || disabled is null)
        {
            yield break;
        }

        const string Goal = "sampling decision with LeakDetection = Sampled within 2 ns and 0 B of Disabled";
        if (sampled.ResultStatistics!.N < 3 || disabled.ResultStatistics!.N < 3)
        {
            yield return $"NOT JUDGED  {Goal}: fewer than 3 measurements (a dry run)";
            yield break;
        }

        var extra = Mean(sampled) - Mean(disabled);
        var bytes = Bytes(sampled) - Bytes(disabled);
        var error = sampled.ResultStatistics.ConfidenceInterval.Margin + disabled.ResultStatistics.ConfidenceInterval.Margin;
        var judgeable = error < 2 ? "the error is below the 2 ns judged" : "the error is not below the 2 ns judged: rerun on a quieter machine";
        yield return $"{(extra <= 2 && bytes == 0 ? "MET   " : "MISSED")}      {Goal}: {Mean(sampled):0.00} vs {Mean(disabled):0.00} ns: {extra:+0.00;-0.00} ns (error +-{error:0.00} ns; {judgeable}), {bytes:+0;-0} B";
    }

    private static IEnumerable<string> EvaluateScope(IReadOnlyList<BenchmarkReport> reports)
    {
        var sampled = Find(reports, nameof(LeakSamplingBenchmark.Sampled));
        var disabled = Find(reports, nameof(LeakSamplingBenchmark.Disabled));
        if (sampled is null || disabled is null)
        {
            yield break;
        }

        const string Goal = "scope create+dispose with LeakDetection = Sampled within 2 ns and 0 B of Disabled";
        if (sampled.ResultStatistics!.N < 3 || disabled.ResultStatistics!.N < 3)
        {
            yield return $"NOT JUDGED  {Goal}: fewer than 3 measurements (a dry run)";
            yield break;
        }

        var extra = Mean(sampled) - Mean(disabled);
        var bytes = Bytes(sampled) - Bytes(disabled);
        var error = sampled.ResultStatistics.ConfidenceInterval.Margin + disabled.ResultStatistics.ConfidenceInterval.Margin;
        yield return $"{(extra <= 2 && bytes == 0 ? "MET   " : "MISSED")}      {Goal}: {Mean(sampled):0.0} vs {Mean(disabled):0.0} ns: {extra:+0.0;-0.0} ns (error +-{error:0.0} ns), {bytes:+0;-0} B";
    }

    private static BenchmarkReport? Find(IReadOnlyList<BenchmarkReport> reports, string method) =>
        Find(reports, nameof(LeakSamplingBenchmark), method);

    private static BenchmarkReport? Find(IReadOnlyList<BenchmarkReport> reports, string type, string method) =>
        reports.FirstOrDefault(r => r.BenchmarkCase.Descriptor.Type.Name == type &&
            r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method && r.ResultStatistics is not null);

    private static double Mean(BenchmarkReport report) => report.ResultStatistics!.Mean;

    private static long Bytes(BenchmarkReport report) => report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? -1;
}
