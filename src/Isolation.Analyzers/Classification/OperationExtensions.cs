using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Classification;

/// <summary>Operation helpers every rule shares.</summary>
internal static class OperationExtensions
{
    private const int MaxUnwrapDepth = 8;

    /// <summary>
    /// The operation under implicit and explicit conversions and parentheses: what a value really is, whatever
    /// type it is converted to on the way (<c>(object)db</c>, <c>IAgent a = new TriageAgent()</c>).
    /// </summary>
    public static IOperation Unwrap(this IOperation operation)
    {
        var current = operation;
        for (var i = 0; i < MaxUnwrapDepth; i++)
        {
            switch (current)
            {
                case IConversionOperation conversion:
                    current = conversion.Operand;
                    continue;
                case IParenthesizedOperation parenthesized:
                    current = parenthesized.Operand;
                    continue;
            }

            break;
        }

        return current;
    }

    /// <summary>The first parent that is not a conversion or parenthesis, and the child of it on the way up.</summary>
    public static IOperation? GetUnwrappedParent(this IOperation operation, out IOperation child)
    {
        child = operation;
        var parent = operation.Parent;
        for (var i = 0; parent is IConversionOperation or IParenthesizedOperation && i < MaxUnwrapDepth; i++)
        {
            child = parent;
            parent = parent.Parent;
        }

        return parent;
    }
}
