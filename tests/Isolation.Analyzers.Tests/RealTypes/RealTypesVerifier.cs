using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Isolation.Analyzers.Tests.RealTypes;

/// <summary>
/// Runs an analyzer over sources compiled against the real Agent Framework, Microsoft.Extensions.AI, Semantic Kernel and
/// DependencyInjection assemblies (the ones this test project restored) and the .NET 10 reference set, with no stubs.
/// </summary>
internal static class RealTypesVerifier<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    private static readonly Type[] Anchors =
    [
        typeof(Microsoft.Agents.AI.AIAgent),
        typeof(Microsoft.Agents.AI.ChatClientAgent),
        typeof(Microsoft.Extensions.AI.IChatClient),
        typeof(Microsoft.Extensions.AI.ChatClientBuilder),
        typeof(Microsoft.SemanticKernel.Kernel),
        typeof(Microsoft.SemanticKernel.KernelExtensions),
        typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection),
        typeof(Microsoft.Extensions.DependencyInjection.ServiceCollection),
        typeof(Microsoft.Extensions.Logging.ILogger),
    ];

    public static Task VerifyAsync(string source)
    {
        var test = new Test { TestCode = source };
        test.TestState.AdditionalReferences.AddRange(Net100.References.All);
        foreach (var path in Anchors.Select(t => t.Assembly.Location).Distinct(StringComparer.Ordinal))
        {
            test.TestState.AdditionalReferences.Add(MetadataReference.CreateFromFile(path));
        }

        return test.RunAsync(TestContext.Current.CancellationToken);
    }

    private sealed class Test : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
    {
        public Test()
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");

            // ISO003 and ISO201 have a live and a compilation-end descriptor under one id: markup means the first.
            MarkupOptions = MarkupOptions.UseFirstDescriptor;
        }
    }
}
