using System.Collections.Immutable;
using Isolation.Analyzers.Classification;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Isolation.Analyzers.Rules;

/// <summary>
/// ISO002 (an agent in a static member), ISO102 (a session or conversation in a static member) and ISO005 (mutable
/// static state in an agent, SignalR hub, controller or page model). A member reported under ISO002/ISO102 is not
/// reported again under ISO005.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StaticStateAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.ISO002AgentInStaticMember,
        Descriptors.ISO102SessionInStaticMember,
        Descriptors.ISO005MutableStaticStateInHandler);

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

            // One callback per type rather than per member: most members are instance members and need no work.
            start.RegisterSymbolAction(c => AnalyzeType(c, isolation), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, IsolationContext isolation)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct or TypeKind.Interface))
        {
            return;
        }

        foreach (var member in type.GetMembers())
        {
            if (member.IsStatic && !member.IsImplicitlyDeclared && member is IFieldSymbol or IPropertySymbol
                && member.Locations.Length > 0 && member.Locations[0].IsInSource)
            {
                AnalyzeMember(context, isolation, member);
            }
        }
    }

    private static void AnalyzeMember(SymbolAnalysisContext context, IsolationContext isolation, ISymbol member)
    {
        ITypeSymbol type;
        bool isReadOnly;
        string memberKind;
        switch (member)
        {
            case IFieldSymbol field:
                if (field.IsConst)
                {
                    return;
                }

                type = field.Type;
                isReadOnly = field.IsReadOnly;
                memberKind = "field";
                break;
            case IPropertySymbol property:
                if (!IsAutoProperty(property, context.CancellationToken))
                {
                    // A computed property holds nothing; the field behind it is analysed on its own.
                    return;
                }

                type = property.Type;
                isReadOnly = property.SetMethod is null;
                memberKind = "property";
                break;
            default:
                return;
        }

        var location = member.Locations[0];
        var classifier = isolation.GetClassifier(context.Options, location.SourceTree);
        var held = classifier.GetHeldState(type);
        if (held.Kind == RequestScopedKind.Agent)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.ISO002AgentInStaticMember, location, memberKind, member.Name, Display.Full(held.Type!)));
            return;
        }

        if (held.Kind == RequestScopedKind.Session)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.ISO102SessionInStaticMember, location, memberKind, member.Name, Display.Full(held.Type!)));
            return;
        }

        var containing = member.ContainingType;
        if (containing is null)
        {
            return;
        }

        string? what = null;
        if (!isReadOnly)
        {
            what = memberKind == "field" ? "not readonly" : "settable";
        }
        else if (classifier.IsMutableCollection(type))
        {
            what = "a mutable collection";
        }

        if (what is null)
        {
            return;
        }

        var reason = classifier.GetHandlerReason(containing);
        if (reason is not null)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.ISO005MutableStaticStateInHandler, location, containing.Name, reason, memberKind, member.Name, what));
        }
    }

    private static bool IsAutoProperty(IPropertySymbol property, System.Threading.CancellationToken cancellationToken)
    {
        if (property.IsAbstract || property.IsExtern || property.IsIndexer)
        {
            return false;
        }

        foreach (var reference in property.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is PropertyDeclarationSyntax { ExpressionBody: null, AccessorList: { } accessors })
            {
                foreach (var accessor in accessors.Accessors)
                {
                    if (accessor.Body is not null || accessor.ExpressionBody is not null)
                    {
                        return false;
                    }
                }

                return accessors.Accessors.Count > 0;
            }
        }

        return false;
    }
}
