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

/// <summary>ISO103: declares the session with <c>using</c>, or <c>await using</c> when it is async-disposable in async code.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UsingDeclarationCodeFix))]
[Shared]
public sealed class UsingDeclarationCodeFix : CodeFixProvider
{
    // Mirrors UndisposedSessionAnalyzer.UsingKindProperty.
    private const string UsingKindProperty = "UsingKind";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIdentifiers.SessionNotDisposed);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true)?.FirstAncestorOrSelf<LocalDeclarationStatementSyntax>() is not { } statement
                || statement.UsingKeyword != default
                || statement.Declaration.Variables.Count != 1)
            {
                continue;
            }

            var isAwait = diagnostic.Properties.TryGetValue(UsingKindProperty, out var kind) && kind == "await using";
            var title = isAwait ? "Declare with 'await using'" : "Declare with 'using'";
            context.RegisterCodeFix(
                CodeAction.Create(title, ct => AddUsingAsync(context.Document, statement, isAwait, ct), "Isolation.UsingDeclaration"),
                diagnostic);
        }
    }

    private static async Task<Document> AddUsingAsync(Document document, LocalDeclarationStatementSyntax statement, bool isAwait, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var leading = statement.GetLeadingTrivia();
        var updated = statement.WithoutLeadingTrivia().WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithTrailingTrivia(SyntaxFactory.Space));
        if (isAwait)
        {
            updated = updated.WithAwaitKeyword(SyntaxFactory.Token(SyntaxKind.AwaitKeyword).WithTrailingTrivia(SyntaxFactory.Space));
        }

        return document.WithSyntaxRoot(root.ReplaceNode(statement, updated.WithLeadingTrivia(leading)));
    }
}
