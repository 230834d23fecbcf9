using System.Collections.Immutable;
using System.Globalization;
using Isolation.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Isolation.Analyzers.Benchmarks;

/// <summary>
/// Runs each analyzer next to the no-op baseline over the large project with Roslyn's execution-time logging: each
/// analyzer's callback time relative to the baseline's, measured in the same runs so machine load affects both alike.
/// </summary>
internal static class AnalyzerProfile
{
    public static IEnumerable<string> Run(int rounds, string? only = null)
    {
        var compilation = LargeProject.Compile(AnalyzerBenchmark.Units);
        DiagnosticAnalyzer[] rules =
        [
            new SingletonRegistrationAnalyzer(), new StaticStateAnalyzer(), new SingletonHeldStateAnalyzer(), new AgentCreationAnalyzer(),
            new UndisposedSessionAnalyzer(), new FireAndForgetSessionAnalyzer(), new BroadcastAnalyzer(),
        ];
        if (only is not null)
        {
            rules = Array.FindAll(rules, r => r.GetType().Name.Contains(only, StringComparison.OrdinalIgnoreCase));
        }

        var totals = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);

        // Each rule alone next to the no-op baseline, so each pays the shared classification itself.
        foreach (var rule in rules)
        {
            var analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new NoOpOperationAnalyzer(), rule);
            for (var round = 0; round < rounds; round++)
            {
                var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), null, concurrentAnalysis: false, logAnalyzerExecutionTime: true);
                var withAnalyzers = compilation.Clone().WithAnalyzers(analyzers, options);
                _ = withAnalyzers.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
                foreach (var analyzer in analyzers)
                {
                    var info = withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None).GetAwaiter().GetResult();
                    var name = analyzer.GetType().Name;
                    totals[name] = totals.GetValueOrDefault(name) + info.ExecutionTime;
                }
            }
        }

        rounds *= rules.Length;
        var baseline = totals[nameof(NoOpOperationAnalyzer)].TotalMilliseconds / rounds;
        foreach (var (name, total) in totals.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var ms = total.TotalMilliseconds / (name == nameof(NoOpOperationAnalyzer) ? rounds : rounds / rules.Length);
            yield return string.Create(CultureInfo.InvariantCulture, $"{name,-32} {ms,8:0.0} ms  ({ms / baseline:0.00}x no-op)");
        }
    }
}
