using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Isolation.Analyzers.Tests.Infrastructure;

/// <summary>
/// Runs one analyzer the way the editor does for an open document (semantic diagnostics of one tree, no compilation-end
/// actions) and the way a build does (everything), so a test can tell live reports from compilation-end ones.
/// </summary>
internal static class LiveAnalysis
{
    /// <summary>"ISOnnn text-at-location" of the live reports in <paramref name="source"/>, and of all reports, each sorted.</summary>
    public static async Task<(string[] Live, string[] All)> RunAsync(DiagnosticAnalyzer analyzer, string source)
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var tree = CSharpSyntaxTree.ParseText(source, options, "Test.cs", cancellationToken: ct);
        var compilation = CSharpCompilation.Create(
            "Live",
            [CSharpSyntaxTree.ParseText(Stubs.Source, options, Stubs.FileName, cancellationToken: ct), tree],
            Net80.References.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.Empty(compilation.GetDiagnostics(ct).Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));

        var withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create(analyzer), new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: false));
        var live = await withAnalyzers.GetAnalyzerSemanticDiagnosticsAsync(compilation.GetSemanticModel(tree), filterSpan: null, ct);
        var all = await withAnalyzers.GetAnalyzerDiagnosticsAsync(ct);
        return (Describe(live), Describe(all));
    }

    private static string[] Describe(ImmutableArray<Diagnostic> diagnostics)
        => diagnostics.Where(d => d.Id.StartsWith("ISO", StringComparison.Ordinal))
            .Select(d => d.Id + " " + Name(d))
            .Order(StringComparer.Ordinal)
            .ToArray();

    private static string Name(Diagnostic diagnostic)
    {
        // ISO003 is reported on the member: name the containing type; others at an expression: its text.
        var text = diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan);
        if (diagnostic.Id != "ISO003")
        {
            return text;
        }

        var node = diagnostic.Location.SourceTree.GetRoot().FindNode(diagnostic.Location.SourceSpan);
        var type = node.AncestorsAndSelf().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax>().First();
        return type.Identifier.Text;
    }
}
