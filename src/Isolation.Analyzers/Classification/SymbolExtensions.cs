using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Classification;

/// <summary>Symbol-equality helpers; every walk is bounded so malformed or cyclic metadata cannot hang the analyzer.</summary>
internal static class SymbolExtensions
{
    private const int MaxDepth = 64;

    public static bool IsOrDerivesFrom(this ITypeSymbol? type, INamedTypeSymbol? baseType)
    {
        if (type is null || baseType is null)
        {
            return false;
        }

        var current = type;
        for (var i = 0; current is not null && i < MaxDepth; i++)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, baseType))
            {
                return true;
            }

            current = current.BaseType;
        }

        return false;
    }

    public static bool IsOrImplements(this ITypeSymbol? type, INamedTypeSymbol? interfaceType)
    {
        if (type is null || interfaceType is null)
        {
            return false;
        }

        if (SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, interfaceType))
        {
            return true;
        }

        foreach (var implemented in type.AllInterfaces)
        {
            if (SymbolEqualityComparer.Default.Equals(implemented.OriginalDefinition, interfaceType))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="type"/> is, derives from or implements <paramref name="other"/>.</summary>
    public static bool IsAssignableTo(this ITypeSymbol? type, INamedTypeSymbol? other)
        => other is not null && (other.TypeKind == TypeKind.Interface ? type.IsOrImplements(other) : type.IsOrDerivesFrom(other));

    public static bool IsSame(this ISymbol? symbol, ISymbol? other)
        => symbol is not null && other is not null && SymbolEqualityComparer.Default.Equals(symbol.OriginalDefinition, other.OriginalDefinition);

    public static bool HasAttribute(this ISymbol symbol, INamedTypeSymbol? attribute)
    {
        if (attribute is null)
        {
            return false;
        }

        foreach (var data in symbol.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The <c>T</c> of the first <c>IEnumerable&lt;T&gt;</c> the type is or implements, or null.</summary>
    public static ITypeSymbol? GetEnumerableElementType(this ITypeSymbol type, INamedTypeSymbol enumerableOfT)
    {
        if (type is INamedTypeSymbol named && SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, enumerableOfT))
        {
            return named.TypeArguments[0];
        }

        foreach (var implemented in type.AllInterfaces)
        {
            if (SymbolEqualityComparer.Default.Equals(implemented.OriginalDefinition, enumerableOfT))
            {
                return implemented.TypeArguments[0];
            }
        }

        return null;
    }

    /// <summary>The <c>T</c> of the first <c>ICollection&lt;T&gt;</c> the type is or implements, or null.</summary>
    public static ITypeSymbol? GetCollectionElementType(this ITypeSymbol type, INamedTypeSymbol collectionOfT)
        => GetEnumerableElementType(type, collectionOfT);
}
