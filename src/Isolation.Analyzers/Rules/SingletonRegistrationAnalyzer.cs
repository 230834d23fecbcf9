using System.Collections.Immutable;
using Isolation.Analyzers.Classification;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Rules;

/// <summary>ISO001 and ISO101: an agent or a session registered with singleton lifetime (or as an existing instance).</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SingletonRegistrationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.ISO001AgentRegisteredAsSingleton, Descriptors.ISO101SessionRegisteredAsSingleton);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var isolation = IsolationContext.TryGet(start.Compilation, start.Options);
            var types = isolation?.Types;
            if (isolation is null || types is null
                || (types.ServiceCollectionServiceExtensions is null && types.ServiceCollectionDescriptorExtensions is null
                    && types.ServiceDescriptor is null && types.ServiceCollectionHostedServiceExtensions is null))
            {
                return;
            }

            start.RegisterOperationAction(c => Analyze(c, isolation), OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, IsolationContext isolation)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!SingletonRegistration.IsSingletonRegistrationMethod(invocation.TargetMethod, isolation.Types))
        {
            return;
        }

        var registered = SingletonRegistration.GetRegisteredTypes(invocation, isolation.Types);
        if (registered.IsEmpty)
        {
            return;
        }

        var classifier = isolation.GetClassifier(context.Options, invocation.Syntax.SyntaxTree);
        ITypeSymbol? session = null;

        // The last registered type is the most specific one (implementation after service type).
        for (var i = registered.Length - 1; i >= 0; i--)
        {
            var type = registered[i].Type;
            switch (classifier.Classify(type))
            {
                case RequestScopedKind.Agent:
                    context.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.ISO001AgentRegisteredAsSingleton,
                        invocation.Syntax.GetLocation(),
                        Display.Full(type),
                        Display.Short(type)));
                    return;
                case RequestScopedKind.Session:
                    session ??= type;
                    break;
            }
        }

        if (session is not null)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.ISO101SessionRegisteredAsSingleton,
                invocation.Syntax.GetLocation(),
                Display.Full(session)));
        }
    }
}
