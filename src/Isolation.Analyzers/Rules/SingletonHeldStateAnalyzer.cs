using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using Isolation.Analyzers.Classification;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Rules;

/// <summary>
/// ISO003: an agent or session held in an instance field or auto-property of a singleton-lifetime type, directly or in
/// a registry/cache collection. Singleton lifetime comes from the whole compilation (a registration anywhere), so the
/// rule collects candidates and registrations while the compilation is analysed and reports at compilation end.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SingletonHeldStateAnalyzer : DiagnosticAnalyzer
{
    private const int MaxBaseDepth = 64;

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.ISO003RequestStateInSingleton);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var isolation = IsolationContext.TryGet(start.Compilation, start.Options);
            if (isolation is null)
            {
                return;
            }

            var state = new CompilationState();
            start.RegisterOperationAction(c => CollectRegistration(c, isolation, state), OperationKind.Invocation);
            start.RegisterSymbolAction(c => CollectCandidates(c, isolation, state), SymbolKind.NamedType);
            start.RegisterCompilationEndAction(c => Report(c, state));
        });
    }

    private static void CollectRegistration(OperationAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!SingletonRegistration.IsSingletonRegistrationMethod(invocation.TargetMethod, isolation.Types))
        {
            return;
        }

        foreach (var registered in SingletonRegistration.GetRegisteredTypes(invocation, isolation.Types))
        {
            state.Registered.Add(registered.Type);
        }
    }

    private static void CollectCandidates(SymbolAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (type.TypeKind != TypeKind.Class || type.Locations.Length == 0 || !type.Locations[0].IsInSource)
        {
            return;
        }

        var classifier = isolation.GetClassifier(context.Options, type.Locations[0].SourceTree);
        string? intrinsicReason = null;
        var typeChecked = false;
        foreach (var member in type.GetMembers())
        {
            if (member is not IFieldSymbol { IsStatic: false, IsConst: false } field)
            {
                continue;
            }

            // Auto-properties are analysed through their compiler-generated backing field.
            ISymbol reported = field.AssociatedSymbol is IPropertySymbol property ? property : field;
            if (field.IsImplicitlyDeclared && reported is IFieldSymbol)
            {
                continue;
            }

            var held = classifier.GetHeldState(field.Type);
            if (held.IsNone || reported.Locations.Length == 0)
            {
                continue;
            }

            // Checked only for the few types that hold request-scoped state. An agent or session holding another one is
            // per-request itself; ISO001/ISO101 catch it if it is registered as a singleton.
            if (!typeChecked)
            {
                if (classifier.Classify(type) != RequestScopedKind.None)
                {
                    return;
                }

                intrinsicReason = classifier.GetIntrinsicSingletonReason(type);
                typeChecked = true;
            }

            state.Candidates.Add(new Candidate(type, reported, held, intrinsicReason));
        }
    }

    private static void Report(CompilationAnalysisContext context, CompilationState state)
    {
        if (state.Candidates.IsEmpty)
        {
            return;
        }

        // Every registered type and its base classes: a registered derived type holds its base class's fields.
        var singletons = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        foreach (var registered in state.Registered)
        {
            var current = registered;
            for (var i = 0; current is not null && i < MaxBaseDepth; i++)
            {
                if (!singletons.Add(current.OriginalDefinition))
                {
                    break;
                }

                current = current.BaseType;
            }
        }

        foreach (var candidate in state.Candidates)
        {
            var reason = candidate.IntrinsicReason ?? (singletons.Contains(candidate.ContainingType.OriginalDefinition) ? "registered as a singleton" : null);
            if (reason is null)
            {
                continue;
            }

            var held = candidate.Held;
            var kind = held.Kind == RequestScopedKind.Agent ? "agent" : "session";
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.ISO003RequestStateInSingleton,
                candidate.Member.Locations[0],
                candidate.ContainingType.Name,
                reason,
                candidate.Member.Kind == SymbolKind.Property ? "property" : "field",
                candidate.Member.Name,
                held.ThroughContainer ? "a collection of " + kind : kind,
                Display.Full(held.Type!)));
        }
    }

    private sealed class CompilationState
    {
        public ConcurrentBag<ITypeSymbol> Registered { get; } = new();

        public ConcurrentBag<Candidate> Candidates { get; } = new();
    }

    private sealed class Candidate
    {
        public Candidate(INamedTypeSymbol containingType, ISymbol member, HeldState held, string? intrinsicReason)
        {
            ContainingType = containingType;
            Member = member;
            Held = held;
            IntrinsicReason = intrinsicReason;
        }

        public INamedTypeSymbol ContainingType { get; }

        public ISymbol Member { get; }

        public HeldState Held { get; }

        public string? IntrinsicReason { get; }
    }
}
