using System.Collections.Generic;
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
/// <c>ServiceDescriptor.Singleton</c> → <c>Scoped</c>) and, for agents, into <c>AddIsolatedAgent&lt;T&gt;()</c>: offered first,
/// and the one Fix All (and <c>dotnet format analyzers</c>) applies, since <c>scope.GetAgent&lt;T&gt;()</c> needs it. The scoped
/// registration of an agent is offered second and never applied in batch. Instance registrations have no scoped form and get no fix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SingletonRegistrationCodeFix))]
[Shared]
public sealed class SingletonRegistrationCodeFix : CodeFixProvider
{
    private const string IsolationExtensions = "Microsoft.Extensions.DependencyInjection.IsolationServiceCollectionExtensions";
    private const string DependencyInjectionNamespace = "Microsoft.Extensions.DependencyInjection";
    private const string AddIsolatedAgentKey = "Isolation.AddIsolatedAgent";
    private const string RegisterScopedKey = "Isolation.RegisterScoped";
    private const string RegisterScopedAgentKey = "Isolation.RegisterScopedAgent";
    private static readonly FixAllProvider FixAll = new IsolationFixAllProvider();

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(RuleIdentifiers.AgentRegisteredAsSingleton, RuleIdentifiers.SessionRegisteredAsSingleton);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => FixAll;

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
            var isAgent = diagnostic.Id == RuleIdentifiers.AgentRegisteredAsSingleton;

            // First, and the one Fix All and 'dotnet format analyzers' apply: the registration scope.GetAgent<T>() needs.
            if (isAgent
                && method.Name is "AddSingleton" or "TryAddSingleton"
                && name is GenericNameSyntax { TypeArgumentList.Arguments.Count: 1 } generic
                && invocation.ArgumentList.Arguments.Count <= 1
                && !isInstance
                && model.Compilation.GetTypeByMetadataName(IsolationExtensions) is not null
                && invocation.Expression is MemberAccessExpressionSyntax)
            {
                var needsUsing = !IsAddIsolatedAgentInReach(model, invocation, context.CancellationToken);
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Register with AddIsolatedAgent<{generic.TypeArgumentList.Arguments[0]}>() (a new agent per scope)",
                        ct => RenameAsync(context.Document, name, "AddIsolatedAgent", needsUsing, ct),
                        AddIsolatedAgentKey),
                    diagnostic);
            }

            if (GetScopedName(method.Name) is { } scopedName && !isInstance)
            {
                // For an agent the scoped registration is right only when the agent is injected into request services;
                // an agent taken from scope.GetAgent<T>() then fails at run time, so Fix All never applies it to agents.
                var title = isAgent
                    ? $"Register with {scopedName} (only for an agent injected into request services; not applied by Fix All, because scope.GetAgent<T>() needs AddIsolatedAgent<T>())"
                    : $"Register with {scopedName} (one instance per request)";
                context.RegisterCodeFix(
                    CodeAction.Create(
                        title,
                        ct => RenameAsync(context.Document, name, scopedName, addUsing: false, ct),
                        isAgent ? RegisterScopedAgentKey : RegisterScopedKey),
                    diagnostic);
            }
        }
    }

    /// <summary>Whether <c>AddIsolatedAgent</c> resolves at the invocation (its namespace imported, e.g. by implicit usings).</summary>
    private static bool IsAddIsolatedAgentInReach(SemanticModel model, InvocationExpressionSyntax invocation, CancellationToken cancellationToken)
    {
        if (invocation.Expression is not MemberAccessExpressionSyntax access
            || model.GetTypeInfo(access.Expression, cancellationToken).Type is not { } receiver)
        {
            return true;
        }

        return !model.LookupSymbols(invocation.SpanStart, receiver, "AddIsolatedAgent", includeReducedExtensionMethods: true).IsEmpty;
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

    private static async Task<Document> RenameAsync(Document document, SimpleNameSyntax name, string newName, bool addUsing, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var identifier = SyntaxFactory.Identifier(name.Identifier.LeadingTrivia, newName, name.Identifier.TrailingTrivia);
        root = root.ReplaceNode(name, name.WithIdentifier(identifier));
        if (addUsing && root is CompilationUnitSyntax unit)
        {
            // End the line like the file's other usings do.
            var endOfLine = unit.Usings.Count > 0 ? unit.Usings[unit.Usings.Count - 1].GetTrailingTrivia() : SyntaxFactory.TriviaList(SyntaxFactory.LineFeed);
            root = unit.AddUsings(SyntaxFactory.UsingDirective(SyntaxFactory.ParseName(DependencyInjectionNamespace)).WithTrailingTrivia(endOfLine));
        }

        return document.WithSyntaxRoot(root);
    }

    /// <summary>Fix All for every action but the scoped registration of an agent, which would build and then fail at run time.</summary>
    private sealed class IsolationFixAllProvider : FixAllProvider
    {
        public override IEnumerable<FixAllScope> GetSupportedFixAllScopes() => WellKnownFixAllProviders.BatchFixer.GetSupportedFixAllScopes();

        public override Task<CodeAction?> GetFixAsync(FixAllContext fixAllContext)
            => fixAllContext.CodeActionEquivalenceKey == RegisterScopedAgentKey
                ? Task.FromResult<CodeAction?>(null)
                : WellKnownFixAllProviders.BatchFixer.GetFixAsync(fixAllContext);
    }
}
