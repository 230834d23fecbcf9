using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using BenchmarkDotNet.Attributes;
using Isolation.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Isolation.Analyzers.Benchmarks;

/// <summary>
/// Each analyzer alone, and all together, over the generated large project (<see cref="LargeProject"/>), against
/// <c>None</c> (binding the whole project without analyzers) and <see cref="NoOpOperationAnalyzer"/> (the analyzer driver and
/// operation trees every real build already pays for). Every iteration works on a
/// fresh compilation, so no semantic cache carries over; the cost of an analyzer is its row minus the <c>None</c> row.
/// </summary>
[MemoryDiagnoser]
public class AnalyzerBenchmark
{
    private CSharpCompilation _compilation = null!;
    private ImmutableArray<DiagnosticAnalyzer> _analyzers;

    public const int Units = 500;

    [Params(
        "None",
        nameof(NoOpOperationAnalyzer),
        nameof(SingletonRegistrationAnalyzer),
        nameof(StaticStateAnalyzer),
        nameof(SingletonHeldStateAnalyzer),
        nameof(AgentCreationAnalyzer),
        nameof(UndisposedSessionAnalyzer),
        nameof(FireAndForgetSessionAnalyzer),
        nameof(BroadcastAnalyzer),
        "All")]
    public string Analyzer { get; set; } = "All";

    [GlobalSetup]
    public void Setup()
    {
        var parseOptions = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = LargeProject.Generate(Units).Select(f => CSharpSyntaxTree.ParseText(f.Text, parseOptions, f.Name)).ToArray();
        _compilation = CSharpCompilation.Create(
            "Large",
            trees,
            Net80.References.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        DiagnosticAnalyzer[] all =
        [
            new SingletonRegistrationAnalyzer(), new StaticStateAnalyzer(), new SingletonHeldStateAnalyzer(), new AgentCreationAnalyzer(),
            new UndisposedSessionAnalyzer(), new FireAndForgetSessionAnalyzer(), new BroadcastAnalyzer(),
        ];
        _analyzers = Analyzer switch
        {
            "All" => all.ToImmutableArray(),
            "None" => ImmutableArray<DiagnosticAnalyzer>.Empty,
            nameof(NoOpOperationAnalyzer) => ImmutableArray.Create<DiagnosticAnalyzer>(new NoOpOperationAnalyzer()),
            _ => all.Where(a => a.GetType().Name == Analyzer).ToImmutableArray(),
        };
    }

    /// <summary>Diagnostic counts by id (compiler errors included), to check the generated project triggers every rule.</summary>
    public IEnumerable<string> Summary()
    {
        var diagnostics = _compilation.Clone().WithAnalyzers(_analyzers).GetAllDiagnosticsAsync().GetAwaiter().GetResult();
        return diagnostics
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .GroupBy(d => d.Id, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}: {g.Count()}  e.g. {g.First()}");
    }

    [Benchmark]
    public int Compile()
    {
        var compilation = _compilation.Clone();
        return _analyzers.IsEmpty
            ? compilation.GetDiagnostics().Length
            : compilation.WithAnalyzers(_analyzers).GetAllDiagnosticsAsync().GetAwaiter().GetResult().Length;
    }
}
