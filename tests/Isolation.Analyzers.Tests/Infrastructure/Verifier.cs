using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Isolation.Analyzers.Tests.Infrastructure;

/// <summary>
/// Runs an analyzer (and optionally a code fix) over test sources plus <see cref="Stubs"/>, compiled against the
/// .NET 8 reference assemblies from Basic.Reference.Assemblies: no reference pack is downloaded at test time.
/// </summary>
internal static class Verifier<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    /// <summary>Verifies the diagnostics marked in <paramref name="source"/> with <c>{|ISOnnn:...|}</c>, and that there are no others.</summary>
    public static Task VerifyAsync(string source, string? editorConfig = null) => VerifyAsync(source, Array.Empty<DiagnosticResult>(), editorConfig);

    /// <summary>Verifies the marked diagnostics plus <paramref name="expected"/> (for messages and <c>{|#n:...|}</c> locations).</summary>
    public static Task VerifyAsync(string source, DiagnosticResult[] expected, string? editorConfig = null)
    {
        var test = new AnalyzerTest { TestCode = source };
        test.ExpectedDiagnostics.AddRange(expected);
        Configure(test.TestState, editorConfig);
        return test.RunAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Verifies the marked diagnostics in a console application (top-level statements, an entry point).</summary>
    public static Task VerifyExecutableAsync(string source, string? editorConfig = null)
    {
        var test = new AnalyzerTest { TestCode = source };
        test.TestState.OutputKind = Microsoft.CodeAnalysis.OutputKind.ConsoleApplication;
        Configure(test.TestState, editorConfig);
        return test.RunAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A diagnostic expected at the <c>{|#n:...|}</c> markup location <paramref name="markupKey"/>.</summary>
    public static DiagnosticResult Diagnostic(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, int markupKey = 0)
        => new DiagnosticResult(descriptor).WithLocation(markupKey);

    /// <summary>Verifies the diagnostics in <paramref name="source"/>, then that the fix (and fix-all) turns it into <paramref name="fixedSource"/>.</summary>
    public static Task VerifyFixAsync<TCodeFix>(string source, string fixedSource, int? codeActionIndex = null)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CodeFixTest<TCodeFix> { TestCode = source, FixedCode = fixedSource, CodeActionIndex = codeActionIndex };
        Configure(test.TestState, editorConfig: null);
        Configure(test.FixedState, editorConfig: null);
        return test.RunAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A fix applied one diagnostic at a time gives <paramref name="fixedSource"/>, and Fix All changes nothing.</summary>
    public static Task VerifyFixNotInFixAllAsync<TCodeFix>(string source, string fixedSource, int codeActionIndex)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CodeFixTest<TCodeFix>
        {
            TestCode = source,
            FixedCode = fixedSource,
            BatchFixedCode = source,
            CodeActionIndex = codeActionIndex,
            NumberOfFixAllIterations = 0,
            NumberOfFixAllInDocumentIterations = 0,
            NumberOfFixAllInProjectIterations = 0,
        };
        Configure(test.TestState, editorConfig: null);
        Configure(test.FixedState, editorConfig: null);
        Configure(test.BatchFixedState, editorConfig: null);
        test.BatchFixedState.MarkupHandling = MarkupMode.Allow;
        return test.RunAsync(TestContext.Current.CancellationToken);
    }

    private static void Configure(SolutionState state, string? editorConfig)
    {
        state.Sources.Add((Stubs.FileName, Stubs.Source));
        state.AdditionalReferences.AddRange(Net80.References.All);
        if (editorConfig is not null)
        {
            state.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n\n[*.cs]\n" + editorConfig + "\n"));
        }
    }

    /// <summary>An empty reference set: the Basic references are added explicitly, so nothing is resolved from NuGet.</summary>
    private static readonly ReferenceAssemblies NoReferences = new("net8.0");

    private sealed class AnalyzerTest : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
    {
        public AnalyzerTest()
        {
            ReferenceAssemblies = NoReferences;
            // A rule reported live and at compilation end has two descriptors with one id; markup names the id.
            MarkupOptions = MarkupOptions.UseFirstDescriptor;
        }
    }

    private sealed class CodeFixTest<TCodeFix> : CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
        where TCodeFix : CodeFixProvider, new()
    {
        public CodeFixTest()
        {
            ReferenceAssemblies = NoReferences;
            MarkupOptions = MarkupOptions.UseFirstDescriptor;
        }
    }
}
