using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Isolation.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Isolation.Analyzers.Benchmarks;

/// <summary>
/// What each analyzer costs the whole analysis, not only its callbacks: the CPU time and the bytes allocated by a full
/// analysis of the large project (a fresh compilation each time, so binding is paid again) with the no-op baseline
/// alone, and with the baseline and the rule, alternated round by round in one process. The difference includes what
/// the compiler's analyzer driver does because the rule is there (per-symbol action sets, operation trees, diagnostics),
/// which Roslyn's execution-time logging does not count.
/// </summary>
internal static class AnalyzerCost
{
    public static IEnumerable<string> Run(int rounds, string? only = null)
    {
        var compilation = LargeProject.Compile(AnalyzerBenchmark.Units);
        var rules = new List<(string Name, Func<DiagnosticAnalyzer[]> Create)>
        {
            ("All", () => [new SingletonRegistrationAnalyzer(), new StaticStateAnalyzer(), new SingletonHeldStateAnalyzer(), new AgentCreationAnalyzer(), new UndisposedSessionAnalyzer(), new FireAndForgetSessionAnalyzer(), new BroadcastAnalyzer()]),
            (nameof(SingletonRegistrationAnalyzer), () => [new SingletonRegistrationAnalyzer()]),
            (nameof(StaticStateAnalyzer), () => [new StaticStateAnalyzer()]),
            (nameof(SingletonHeldStateAnalyzer), () => [new SingletonHeldStateAnalyzer()]),
            (nameof(AgentCreationAnalyzer), () => [new AgentCreationAnalyzer()]),
            (nameof(UndisposedSessionAnalyzer), () => [new UndisposedSessionAnalyzer()]),
            (nameof(FireAndForgetSessionAnalyzer), () => [new FireAndForgetSessionAnalyzer()]),
            (nameof(BroadcastAnalyzer), () => [new BroadcastAnalyzer()]),
        };
        if (only is not null)
        {
            rules = rules.FindAll(r => r.Name.Contains(only, StringComparison.OrdinalIgnoreCase));
        }

        // Warm up the JIT and Roslyn's metadata once, with everything.
        Analyze(compilation, [new NoOpOperationAnalyzer(), .. rules[0].Create()]);
        foreach (var (name, create) in rules)
        {
            var baseline = new List<(double Ms, long Bytes)>();
            var with = new List<(double Ms, long Bytes)>();
            for (var round = 0; round < rounds; round++)
            {
                baseline.Add(Analyze(compilation, [new NoOpOperationAnalyzer()]));
                with.Add(Analyze(compilation, [new NoOpOperationAnalyzer(), .. create()]));
            }

            var (baseMs, baseBytes) = (Median(baseline.ConvertAll(m => m.Ms)), Median(baseline.ConvertAll(m => (double)m.Bytes)));
            var (ms, bytes) = (Median(with.ConvertAll(m => m.Ms)), Median(with.ConvertAll(m => (double)m.Bytes)));
            yield return string.Create(
                CultureInfo.InvariantCulture,
                $"{name,-32} CPU {ms,8:0} ms vs {baseMs,8:0} ms ({(ms / baseMs) - 1,7:+0.0%;-0.0%})  allocated {bytes / 1e6,8:0.0} MB vs {baseBytes / 1e6,8:0.0} MB ({(bytes - baseBytes) / 1e6:+0.0;-0.0} MB)");
        }
    }

    private static (double Ms, long Bytes) Analyze(CSharpCompilation compilation, DiagnosticAnalyzer[] analyzers)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), null, concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var bytes = GC.GetTotalAllocatedBytes(precise: true);
        _ = compilation.Clone().WithAnalyzers([.. analyzers], options).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - bytes;
        process.Refresh();
        return ((process.TotalProcessorTime - cpu).TotalMilliseconds, allocated);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }
}
