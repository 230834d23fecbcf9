using System;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Classification;

/// <summary>
/// Every operation in a type's own code (its members' bodies and initializers, and those of its nested types), for a
/// rule that must decide about the type once all of it has been seen. A symbol action that walks the few types it needs
/// replaces a symbol-start action: with one registered, the compiler's analyzer driver works out the per-symbol actions
/// of every symbol of the compilation, which cost a fifth of the build's CPU on a large project
/// (docs/analyzers-performance.md).
/// </summary>
internal static class TypeCode
{
    /// <summary>
    /// Calls <paramref name="visit"/> for every operation in the type's code, with the symbol that owns it (the method,
    /// accessor, constructor, or the field or property an initializer belongs to), as an operation action would see them.
    /// </summary>
    public static void ForEachOperation(Compilation compilation, INamedTypeSymbol type, Action<IOperation, ISymbol> visit, CancellationToken cancellation)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            var declaration = reference.GetSyntax(cancellation);
            // The compiler's analyzer driver gives analyzers its cached semantic model for a tree: the bodies are bound
            // and their operations built once for every analyzer.
#pragma warning disable RS1030 // A symbol action gets no semantic model; this one needs the operations of one type.
            var model = compilation.GetSemanticModel(reference.SyntaxTree);
#pragma warning restore RS1030
            foreach (var node in declaration.DescendantNodes(static n => !IsCodeRoot(n)))
            {
                if (!IsCodeRoot(node) || GetOwner(model, node, cancellation) is not { } owner || model.GetOperation(node, cancellation) is not { } root)
                {
                    continue;
                }

                foreach (var operation in root.DescendantsAndSelf())
                {
                    visit(operation, owner);
                }
            }
        }
    }

    /// <summary>A body or initializer: the syntax an operation block starts at.</summary>
    private static bool IsCodeRoot(SyntaxNode node) => node switch
    {
        BaseMethodDeclarationSyntax or AccessorDeclarationSyntax => true,
        ArrowExpressionClauseSyntax arrow => arrow.Parent is PropertyDeclarationSyntax or IndexerDeclarationSyntax,
        EqualsValueClauseSyntax equals => equals.Parent is PropertyDeclarationSyntax
            || equals.Parent is VariableDeclaratorSyntax { Parent.Parent: FieldDeclarationSyntax },
        _ => false,
    };

    private static ISymbol? GetOwner(SemanticModel model, SyntaxNode node, CancellationToken cancellation) => node switch
    {
        ArrowExpressionClauseSyntax arrow => (model.GetDeclaredSymbol(arrow.Parent!, cancellation) as IPropertySymbol)?.GetMethod,
        EqualsValueClauseSyntax equals => model.GetDeclaredSymbol(equals.Parent!, cancellation),
        _ => model.GetDeclaredSymbol(node, cancellation),
    };
}
