using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Isolation.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Isolation.CodeFixes;

/// <summary>
/// ISO004: replaces <c>new TAgent(...)</c> with <c>factory.Create(scope)</c> when an <c>IAgentFactory&lt;TAgent&gt;</c> and an
/// <c>IsolationScope</c> are in reach, or with <c>scope.GetAgent&lt;TAgent&gt;()</c> when only a scope is. Without a scope
/// in reach there is no fix: the code has no request to give the agent to.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AgentFactoryCodeFix))]
[Shared]
public sealed class AgentFactoryCodeFix : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.AgentCreatedWithNew);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        var scopeType = model?.Compilation.GetTypeByMetadataName("Isolation.IsolationScope");
        var factoryType = model?.Compilation.GetTypeByMetadataName("Isolation.IAgentFactory`1");
        if (root is null || model is null || scopeType is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true)?.FirstAncestorOrSelf<BaseObjectCreationExpressionSyntax>() is not { } creation
                || model.GetTypeInfo(creation, context.CancellationToken).Type is not INamedTypeSymbol agentType)
            {
                continue;
            }

            var position = creation.SpanStart;
            var isStatic = model.GetEnclosingSymbol(position, context.CancellationToken) is { IsStatic: true };
            var scope = FindInReach(model, position, isStatic, scopeType);
            if (scope is null)
            {
                continue;
            }

            var factory = factoryType is null ? null : FindInReach(model, position, isStatic, factoryType.Construct(agentType));
            var typeName = agentType.ToMinimalDisplayString(model, position);
            var replacement = factory is not null ? $"{factory.Name}.Create({scope.Name})" : $"{scope.Name}.GetAgent<{typeName}>()";
            var title = factory is not null ? $"Resolve through IAgentFactory<{typeName}>: {replacement}" : $"Resolve through the scope: {replacement}";
            context.RegisterCodeFix(
                CodeAction.Create(title, ct => ReplaceAsync(context.Document, creation, replacement, ct), "Isolation.ResolveAgent"),
                diagnostic);
        }
    }

    /// <summary>A local, parameter, field or property of <paramref name="type"/> usable at <paramref name="position"/>; locals and parameters first.</summary>
    private static ISymbol? FindInReach(SemanticModel model, int position, bool isStatic, INamedTypeSymbol type)
    {
        ISymbol? member = null;
        foreach (var symbol in model.LookupSymbols(position))
        {
            var symbolType = symbol switch
            {
                ILocalSymbol local when local.Locations.Length > 0 && local.Locations[0].SourceSpan.End <= position => local.Type,
                IParameterSymbol parameter => parameter.Type,
                IFieldSymbol field when !isStatic || field.IsStatic => field.Type,
                IPropertySymbol property when !property.IsIndexer && (!isStatic || property.IsStatic) => property.Type,
                _ => null,
            };

            if (symbolType is null || !SymbolEqualityComparer.Default.Equals(symbolType, type))
            {
                continue;
            }

            if (symbol is ILocalSymbol or IParameterSymbol)
            {
                return symbol;
            }

            member ??= symbol;
        }

        return member;
    }

    private static async Task<Document> ReplaceAsync(Document document, BaseObjectCreationExpressionSyntax creation, string replacement, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var expression = SyntaxFactory.ParseExpression(replacement).WithTriviaFrom(creation);
        return document.WithSyntaxRoot(root.ReplaceNode(creation, expression));
    }
}
