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
    /// <summary>Present on a diagnostic when the registration registers an existing instance (the code fix offers no scoped form).</summary>
    internal const string InstanceProperty = "IsInstance";

    private static readonly ImmutableDictionary<string, string?> InstanceProperties = ImmutableDictionary<string, string?>.Empty.Add(InstanceProperty, "true");

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
                    && types.ServiceDescriptor is null && types.ServiceCollectionHostedServiceExtensions is null
                    && types.EntityFrameworkServiceCollectionExtensions is null))
            {
                return;
            }

            start.RegisterOperationAction(c => AnalyzeInvocation(c, isolation), OperationKind.Invocation);
            if (types.ServiceDescriptor is not null)
            {
                start.RegisterOperationAction(c => AnalyzeDescriptorCreation(c, isolation), OperationKind.ObjectCreation);
            }
        });
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, IsolationContext isolation)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!SingletonRegistration.IsSingletonRegistrationMethod(invocation.TargetMethod, isolation.Types))
        {
            return;
        }

        Analyze(context, isolation, invocation, SingletonRegistration.GetRegisteredTypes(invocation, isolation.Types));
    }

    private static void AnalyzeDescriptorCreation(OperationAnalysisContext context, IsolationContext isolation)
    {
        var creation = (IObjectCreationOperation)context.Operation;
        if (!creation.Type.IsSame(isolation.Types.ServiceDescriptor))
        {
            return;
        }

        Analyze(context, isolation, creation, SingletonRegistration.GetRegisteredTypes(creation, isolation.Types));
    }

    private static void Analyze(OperationAnalysisContext context, IsolationContext isolation, IOperation invocation, ImmutableArray<RegisteredType> registered)
    {
        if (registered.IsEmpty)
        {
            return;
        }

        var classifier = isolation.GetClassifier(context.Options, invocation.Syntax.SyntaxTree);
        ITypeSymbol? session = null;
        var properties = ImmutableDictionary<string, string?>.Empty;
        foreach (var type in registered)
        {
            if (type.IsInstance)
            {
                properties = InstanceProperties;
            }
        }

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
                        properties,
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
                properties,
                Display.Full(session)));
        }
    }
}
