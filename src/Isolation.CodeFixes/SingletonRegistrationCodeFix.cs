using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Isolation.Analyzers;
using Isolation.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Isolation.CodeFixes;

/// <summary>
/// ISO001 and ISO101: turns a singleton registration into the scoped one (<c>AddSingleton</c> → <c>AddScoped</c>,
/// <c>TryAddSingleton</c> → <c>TryAddScoped</c>, <c>AddKeyedSingleton</c> → <c>AddKeyedScoped</c>,
/// <c>ServiceDescriptor.Singleton</c> → <c>Scoped</c>) and, for agents, into <c>AddIsolatedAgent&lt;T&gt;()</c>.
/// Instance registrations have no scoped form and get no fix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SingletonRegistrationCodeFix))]
[Shared]
public sealed class SingletonRegistrationCodeFix : CodeFixProvider
{
    private const string IsolationExtensions = "Microsoft.Extensions.DependencyInjection.IsolationServiceCollectionExtensions";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(RuleIdentifiers.AgentRegisteredAsSingleton, RuleIdentifiers.SessionRegisteredAsSingleton);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not { } node
                || node.FirstAncestorOrSelf<InvocationExpressionSyntax>() is not { } invocation
                || invocation.Span != diagnostic.Location.SourceSpan
                || GetNameNode(invocation) is not { } name
                || model.GetSymbolInfo(invocation, context.CancellationToken).Symbol is not IMethodSymbol method)
            {
                continue;
            }

            // The analyzer says whether an existing instance is registered: that has no scoped form.
            var isInstance = diagnostic.Properties.ContainsKey(SingletonRegistrationAnalyzer.InstanceProperty);
            if (GetScopedName(method.Name) is { } scopedName && !isInstance)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Register with {scopedName} (one instance per request)",
                        ct => RenameAsync(context.Document, name, scopedName, ct),
                        "Isolation.RegisterScoped"),
                    diagnostic);
            }

            if (diagnostic.Id == RuleIdentifiers.AgentRegisteredAsSingleton
                && method.Name is "AddSingleton" or "TryAddSingleton"
                && name is GenericNameSyntax { TypeArgumentList.Arguments.Count: 1 } generic
                && invocation.ArgumentList.Arguments.Count <= 1
                && !isInstance
                && model.Compilation.GetTypeByMetadataName(IsolationExtensions) is not null
                && invocation.Expression is MemberAccessExpressionSyntax)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Register with AddIsolatedAgent<{generic.TypeArgumentList.Arguments[0]}>()",
                        ct => RenameAsync(context.Document, name, "AddIsolatedAgent", ct),
                        "Isolation.AddIsolatedAgent"),
                    diagnostic);
            }
        }
    }

    private static SimpleNameSyntax? GetNameNode(InvocationExpressionSyntax invocation) => invocation.Expression switch
    {
        MemberAccessExpressionSyntax access => access.Name,
        SimpleNameSyntax simple => simple,
        _ => null,
    };

    private static string? GetScopedName(string name) => name switch
    {
        "AddSingleton" => "AddScoped",
        "TryAddSingleton" => "TryAddScoped",
        "AddKeyedSingleton" => "AddKeyedScoped",
        "TryAddKeyedSingleton" => "TryAddKeyedScoped",
        "Singleton" => "Scoped",
        "KeyedSingleton" => "KeyedScoped",
        _ => null,
    };

    private static async Task<Document> RenameAsync(Document document, SimpleNameSyntax name, string newName, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var identifier = SyntaxFactory.Identifier(name.Identifier.LeadingTrivia, newName, name.Identifier.TrailingTrivia);
        return document.WithSyntaxRoot(root.ReplaceNode(name, name.WithIdentifier(identifier)));
    }
}
