using System.Collections.Immutable;
using Isolation.Analyzers.Classification;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Rules;

/// <summary>
/// ISO004: an agent created with <c>new</c> outside a factory or DI. Creation is fine inside a DI factory lambda (a lambda
/// taking <see cref="System.IServiceProvider"/>), inside an <c>IAgentFactory&lt;T&gt;</c> implementation, inside a method that
/// returns the agent (a factory method), and inside the agent type itself — unless the agent goes into a cache: an
/// argument of (or created in a lambda passed to) a dictionary or memory-cache method (<c>GetOrAdd</c>, <c>TryAdd</c>,
/// <c>GetOrCreate</c>), a dictionary indexer assignment, <c>new Lazy&lt;T&gt;(...)</c> or <c>LazyInitializer</c>. A value
/// cached there outlives the request, so that lambda or method is not a factory.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AgentCreationAnalyzer : DiagnosticAnalyzer
{
    private const int MaxParentDepth = 128;

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.ISO004AgentCreatedWithNew);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var isolation = IsolationContext.TryGet(start.Compilation, start.Options);
            // Only agents are reported: without a type that can be one, no 'new' anywhere needs a look.
            if (isolation is null || !isolation.MayContainAgents(start.Options))
            {
                return;
            }

            // One callback per 'new', ending in one cached classification for every type that is not an agent. A syntax
            // pre-filter on the created type's name (binding only names some agent type has) was tried and measured slower:
            // it had to find every agent type of the compilation and its references first (docs/analyzers-performance.md).
            start.RegisterOperationAction(c => Analyze(c, isolation), OperationKind.ObjectCreation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, IsolationContext isolation)
    {
        var creation = (IObjectCreationOperation)context.Operation;
        if (creation.Type is not INamedTypeSymbol created || created.TypeKind == TypeKind.Error)
        {
            return;
        }

        var classifier = isolation.GetClassifier(context.Options, creation.Syntax.SyntaxTree);
        if (classifier.Classify(created) != RequestScopedKind.Agent
            || (!FlowsIntoCache(creation, isolation.Types) && IsInsideFactory(creation, context.ContainingSymbol, created, isolation.Types)))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            Descriptors.ISO004AgentCreatedWithNew,
            creation.Syntax.GetLocation(),
            Display.Short(created)));
    }

    private static bool IsInsideFactory(IOperation creation, ISymbol? containingSymbol, INamedTypeSymbol created, KnownTypes types)
    {
        // Lambdas and local functions between the creation and its member: a DI factory, or a local factory function.
        var current = creation.Parent;
        for (var i = 0; current is not null && i < MaxParentDepth; i++, current = current.Parent)
        {
            switch (current)
            {
                case IAnonymousFunctionOperation lambda when TakesServiceProvider(lambda.Symbol, types) || ReturnsAgent(lambda.Symbol, created, types):
                    return true;
                case ILocalFunctionOperation local when ReturnsAgent(local.Symbol, created, types):
                    return true;
            }
        }

        if (containingSymbol is IMethodSymbol method && (ReturnsAgent(method, created, types) || TakesServiceProvider(method, types)))
        {
            return true;
        }

        // Inside the agent itself (a Clone or static Create) or inside a custom IAgentFactory<T>.
        for (var type = containingSymbol?.ContainingType; type is not null; type = type.ContainingType)
        {
            if (created.IsOrDerivesFrom(type.OriginalDefinition) || type.IsOrImplements(types.IAgentFactory))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the created agent is handed to a cache, directly or as the result of a lambda passed to one.</summary>
    private static bool FlowsIntoCache(IOperation creation, KnownTypes types)
    {
        var current = creation;
        var parent = current.Parent;
        for (var i = 0; parent is not null && i < MaxParentDepth; i++, current = parent, parent = parent.Parent)
        {
            switch (parent)
            {
                case IArgumentOperation { Parent: IInvocationOperation call } when IsCacheMethod(call.TargetMethod, types):
                    return true;
                case IArgumentOperation { Parent: IObjectCreationOperation lazy } when lazy.Type.IsOrDerivesFrom(types.LazyOfT):
                    return true;
                case ISimpleAssignmentOperation assignment when assignment.Value == current
                    && assignment.Target is IPropertyReferenceOperation { Property.IsIndexer: true } indexer
                    && IsDictionary(indexer.Property.ContainingType, types):
                    return true;
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation local } assignment when assignment.Value == current:
                    return LocalFlowsIntoCache(assignment, local.Local, types);
                case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                    return LocalFlowsIntoCache(declarator, declarator.Symbol, types);
                case IMethodBodyOperation or IConstructorBodyOperation or ILocalFunctionOperation:
                    return false;
            }
        }

        return false;
    }

    /// <summary>The local the agent was put in goes into a cache later in the same body (<c>agent = new T(); _agents[user] = agent;</c>).</summary>
    private static bool LocalFlowsIntoCache(IOperation start, ILocalSymbol local, KnownTypes types)
    {
        var body = start;
        for (var i = 0; body.Parent is not null && i < MaxParentDepth; i++)
        {
            body = body.Parent;
            if (body is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                break;
            }
        }

        foreach (var operation in body.Descendants())
        {
            if (operation is not ILocalReferenceOperation reference || !SymbolEqualityComparer.Default.Equals(reference.Local, local))
            {
                continue;
            }

            var parent = reference.GetUnwrappedParent(out var child);
            switch (parent)
            {
                case IArgumentOperation { Parent: IInvocationOperation call } when IsCacheMethod(call.TargetMethod, types):
                    return true;
                case IArgumentOperation { Parent: IObjectCreationOperation lazy } when lazy.Type.IsOrDerivesFrom(types.LazyOfT):
                    return true;
                case ISimpleAssignmentOperation assignment when assignment.Value == child
                    && assignment.Target is IPropertyReferenceOperation { Property.IsIndexer: true } indexer
                    && IsDictionary(indexer.Property.ContainingType, types):
                    return true;
            }
        }

        return false;
    }

    private static bool IsCacheMethod(IMethodSymbol method, KnownTypes types)
    {
        var containing = method.ContainingType;
        if (containing is null)
        {
            return false;
        }

        if (containing.IsSame(types.MemoryCacheExtensions) || containing.IsSame(types.LazyInitializer) || containing.IsAssignableTo(types.IMemoryCache))
        {
            return true;
        }

        // Adding to (or getting-or-adding to) a dictionary keeps the value; reading (TryGetValue, ContainsKey) does not.
        return method.Name is "GetOrAdd" or "TryAdd" or "Add" or "AddOrUpdate" or "TryUpdate" && IsDictionary(containing, types);
    }

    private static bool IsDictionary(INamedTypeSymbol? type, KnownTypes types)
        => type is not null && (type.IsOrDerivesFrom(types.ConcurrentDictionary) || type.IsAssignableTo(types.IDictionaryOfT));

    private static bool TakesServiceProvider(IMethodSymbol method, KnownTypes types)
    {
        foreach (var parameter in method.Parameters)
        {
            if (parameter.Type.IsAssignableTo(types.IServiceProvider))
            {
                return true;
            }
        }

        return false;
    }

    private static bool ReturnsAgent(IMethodSymbol method, INamedTypeSymbol created, KnownTypes types)
    {
        var returnType = method.ReturnType;
        if (returnType is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } wrapper
            && (wrapper.OriginalDefinition.IsSame(types.TaskOfT) || wrapper.OriginalDefinition.IsSame(types.ValueTaskOfT)))
        {
            returnType = wrapper.TypeArguments[0];
        }

        // 'object' says nothing about agents: only a method whose declared result is an agent type is a factory.
        return returnType.SpecialType != SpecialType.System_Object && created.IsAssignableTo(returnType as INamedTypeSymbol);
    }
}
