using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
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
    private const string AddIsolatedAgent = "AddIsolatedAgent";
    private const string AddIsolatedAgentKey = "Isolation.AddIsolatedAgent";
    private const string RegisterScopedKey = "Isolation.RegisterScoped";
    private const string RegisterScopedAgentKey = "Isolation.RegisterScopedAgent";

    // Fix All applies each occurrence's batch fix, whichever action it was started from: AddIsolatedAgent<T>() for an agent
    // (nothing where it does not apply), the scoped registration for a session. 'dotnet format' starts it from the first
    // action of whichever diagnostic of this provider it meets first, so the result must not depend on that choice.
    // Started from the scoped registration of an agent, it changes nothing: that fix builds and then fails at run time.
    private static readonly FixAllProvider FixAll = new BatchFixes();

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
            if (Registration.Find(root, model, diagnostic, context.CancellationToken) is not { } registration)
            {
                continue;
            }

            // First, and the one Fix All and 'dotnet format analyzers' apply: the registration scope.GetAgent<T>() needs.
            if (registration.CanUseAddIsolatedAgent)
            {
                var (name, needsUsing) = (registration.Name, registration.NeedsUsing);
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Register with AddIsolatedAgent<{registration.TypeArgument}>() (a new agent per scope)",
                        ct => RenameAsync(context.Document, [(name, AddIsolatedAgent)], needsUsing, ct),
                        AddIsolatedAgentKey),
                    diagnostic);
            }

            if (registration.ScopedName is { } scopedName)
            {
                // For an agent the scoped registration is right only when the agent is injected into request services;
                // an agent taken from scope.GetAgent<T>() then fails at run time, so Fix All never applies it to agents.
                var name = registration.Name;
                var title = registration.IsAgent
                    ? $"Register with {scopedName} (only for an agent injected into request services; not applied by Fix All, because scope.GetAgent<T>() needs AddIsolatedAgent<T>())"
                    : $"Register with {scopedName} (one instance per request)";
                context.RegisterCodeFix(
                    CodeAction.Create(
                        title,
                        ct => RenameAsync(context.Document, [(name, scopedName)], addUsing: false, ct),
                        registration.IsAgent ? RegisterScopedAgentKey : RegisterScopedKey),
                    diagnostic);
            }
        }
    }

    private static async Task<Document?> FixAllInDocumentAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics)
    {
        var root = await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return null;
        }

        var renames = new List<(SimpleNameSyntax Name, string NewName)>();
        var addUsing = false;
        foreach (var diagnostic in diagnostics)
        {
            if (Registration.Find(root, model, diagnostic, context.CancellationToken) is not { } registration)
            {
                continue;
            }

            if (registration.CanUseAddIsolatedAgent)
            {
                renames.Add((registration.Name, AddIsolatedAgent));
                addUsing |= registration.NeedsUsing;
            }
            else if (!registration.IsAgent && registration.ScopedName is { } scopedName)
            {
                renames.Add((registration.Name, scopedName));
            }
        }

        return renames.Count == 0 ? null : await RenameAsync(document, renames, addUsing, context.CancellationToken).ConfigureAwait(false);
    }

    private static async Task<Document> RenameAsync(Document document, IReadOnlyList<(SimpleNameSyntax Name, string NewName)> renames, bool addUsing, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var newNames = renames.ToDictionary(r => r.Name, r => r.NewName);
        root = root.ReplaceNodes(
            newNames.Keys,
            (original, rewritten) => rewritten.WithIdentifier(
                SyntaxFactory.Identifier(original.Identifier.LeadingTrivia, newNames[original], original.Identifier.TrailingTrivia)));
        if (addUsing && root is CompilationUnitSyntax unit)
        {
            // End the line like the file's other usings do.
            var endOfLine = unit.Usings.Count > 0 ? unit.Usings[unit.Usings.Count - 1].GetTrailingTrivia() : SyntaxFactory.TriviaList(SyntaxFactory.LineFeed);
            root = unit.AddUsings(SyntaxFactory.UsingDirective(SyntaxFactory.ParseName(DependencyInjectionNamespace)).WithTrailingTrivia(endOfLine));
        }

        return document.WithSyntaxRoot(root);
    }

    /// <summary>Offers no Fix All at all when started from the scoped registration of an agent; otherwise each occurrence's batch fix.</summary>
    private sealed class BatchFixes : FixAllProvider
    {
        private static readonly FixAllProvider PerDocument = Create(FixAllInDocumentAsync);

        public override IEnumerable<FixAllScope> GetSupportedFixAllScopes() => PerDocument.GetSupportedFixAllScopes();

        public override Task<CodeAction?> GetFixAsync(FixAllContext fixAllContext)
            => fixAllContext.CodeActionEquivalenceKey == RegisterScopedAgentKey
                ? Task.FromResult<CodeAction?>(null)
                : PerDocument.GetFixAsync(fixAllContext);
    }

    /// <summary>What a diagnostic's registration can become.</summary>
    private sealed class Registration
    {
        private Registration(SimpleNameSyntax name, bool isAgent, string? scopedName, string? typeArgument, bool needsUsing)
        {
            Name = name;
            IsAgent = isAgent;
            ScopedName = scopedName;
            TypeArgument = typeArgument;
            NeedsUsing = needsUsing;
        }

        public SimpleNameSyntax Name { get; }

        public bool IsAgent { get; }

        /// <summary>Gets the scoped form of the method, or null when there is none (an existing instance, an unknown method).</summary>
        public string? ScopedName { get; }

        /// <summary>Gets the agent type as written, when <c>AddIsolatedAgent&lt;T&gt;()</c> can replace the call.</summary>
        public string? TypeArgument { get; }

        public bool CanUseAddIsolatedAgent => TypeArgument is not null;

        /// <summary>Gets whether <c>AddIsolatedAgent</c> would not resolve without <c>using Microsoft.Extensions.DependencyInjection;</c>.</summary>
        public bool NeedsUsing { get; }

        public static Registration? Find(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
        {
            if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not { } node
                || node.FirstAncestorOrSelf<InvocationExpressionSyntax>() is not { } invocation
                || invocation.Span != diagnostic.Location.SourceSpan
                || GetNameNode(invocation) is not { } name
                || model.GetSymbolInfo(invocation, cancellationToken).Symbol is not IMethodSymbol method)
            {
                return null;
            }

            // The analyzer says whether an existing instance is registered: that has no scoped form.
            var isInstance = diagnostic.Properties.ContainsKey(SingletonRegistrationAnalyzer.InstanceProperty);
            var isAgent = diagnostic.Id == RuleIdentifiers.AgentRegisteredAsSingleton;
            string? typeArgument = null;
            var needsUsing = false;
            if (isAgent
                && method.Name is "AddSingleton" or "TryAddSingleton"
                && name is GenericNameSyntax { TypeArgumentList.Arguments.Count: 1 } generic
                && invocation.ArgumentList.Arguments.Count <= 1
                && !isInstance
                && model.Compilation.GetTypeByMetadataName(IsolationExtensions) is not null
                && invocation.Expression is MemberAccessExpressionSyntax access)
            {
                typeArgument = generic.TypeArgumentList.Arguments[0].ToString();
                needsUsing = model.GetTypeInfo(access.Expression, cancellationToken).Type is { } receiver
                    && model.LookupSymbols(invocation.SpanStart, receiver, AddIsolatedAgent, includeReducedExtensionMethods: true).IsEmpty;
            }

            return new Registration(name, isAgent, isInstance ? null : GetScopedName(method.Name), typeArgument, needsUsing);
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
    }
}
