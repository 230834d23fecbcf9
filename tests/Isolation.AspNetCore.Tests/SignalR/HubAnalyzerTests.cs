using System.Collections.Immutable;
using Isolation.Analyzers.Rules;
using Isolation.AspNetCore.Tests.Docs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Isolation.AspNetCore.Tests.SignalR;

/// <summary>
/// The compile-time half of <see cref="IsolationHubFilterTests.InvokeMethodAsync_HubKeepsAgentInStatic_NextUserIsStoppedWithViolation"/>:
/// the very source of the hubs that test runs (TestHubs.cs), compiled against the real ASP.NET Core SignalR, Isolation.Core
/// and Isolation.AspNetCore assemblies this test runs on, with every Isolation analyzer.
/// </summary>
public sealed class HubAnalyzerTests
{
    [Fact]
    public async Task Analyzers_RealHubTypes_RetainedAgentsReportedAsISO002AndISO005AndNothingElse()
    {
        var diagnostics = await AnalyzeAsync(Path.Combine(AspNetCoreDocsTests.RepositoryRoot(), "tests", "Isolation.AspNetCore.Tests", "SignalR", "TestHubs.cs"));

        var reported = diagnostics
            .Select(d => (d.Id, Member: d.Location.SourceTree!.GetRoot().FindToken(d.Location.SourceSpan.Start).Text, Type: EnclosingType(d)))
            .OrderBy(d => d.Id, StringComparer.Ordinal)
            .ToArray();

        // RetainingHub keeps the agent in a static of the agent's type; ObjectRetainingHub in a static object of the hub.
        // ChatHub, which only reaches agents through scopes, is clean.
        Assert.Equal([("ISO002", "Kept", "RetainingHub"), ("ISO005", "Last", "ObjectRetainingHub")], reported);
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity)); // both fail the build by default
    }

    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string path)
    {
        var options = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);
        var implicitUsings = CSharpSyntaxTree.ParseText(
            "global using System; global using System.Collections.Generic; global using System.Linq; global using System.Threading; global using System.Threading.Tasks;",
            options);
        var source = CSharpSyntaxTree.ParseText(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken), options, path);

        // The trusted platform assemblies: .NET, Microsoft.AspNetCore.App and this test's own dependencies (Isolation.*).
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create(
            "HubsUnderAnalysis",
            [implicitUsings, source],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        var errors = compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, "TestHubs.cs must compile as it does in the build: " + string.Join("; ", errors.Select(e => e.ToString())));

        var analyzers = typeof(StaticStateAnalyzer).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
            .ToImmutableArray();
        Assert.Contains(analyzers, a => a is StaticStateAnalyzer);
        var all = await compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync(TestContext.Current.CancellationToken);
        return all.Where(d => d.Id.StartsWith("ISO", StringComparison.Ordinal)).ToImmutableArray();
    }

    private static string EnclosingType(Diagnostic diagnostic)
    {
        var node = diagnostic.Location.SourceTree!.GetRoot().FindNode(diagnostic.Location.SourceSpan);
        return node.AncestorsAndSelf().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax>().First().Identifier.Text;
    }
}
