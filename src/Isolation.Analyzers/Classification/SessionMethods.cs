using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Classification;

/// <summary>Which calls create a session the caller owns, and which calls end one: decided by symbol, never by a method's name alone.</summary>
internal static class SessionMethods
{
    private const int MaxOverrideDepth = 32;

    /// <summary>
    /// True when <paramref name="method"/> is one of the known session factories (<c>DbProviderFactory.CreateConnection</c>,
    /// <c>DbDataSource.CreateConnection/OpenConnection(Async)</c>, <c>IDbContextFactory&lt;T&gt;.CreateDbContext(Async)</c>),
    /// overrides or implements one, or hides one in a derived provider type (<c>NpgsqlDataSource.OpenConnectionAsync</c>).
    /// </summary>
    public static bool IsSessionCreatorMethod(IMethodSymbol method, KnownTypes types)
    {
        var creators = types.SessionCreatorMethods;
        if (creators.IsEmpty)
        {
            return false;
        }

        var definition = method.OriginalDefinition;
        var current = definition;
        for (var i = 0; current is not null && i < MaxOverrideDepth; i++, current = current.OverriddenMethod?.OriginalDefinition)
        {
            foreach (var creator in creators)
            {
                if (SymbolEqualityComparer.Default.Equals(current, creator))
                {
                    return true;
                }
            }
        }

        var containing = definition.ContainingType;
        if (containing is null)
        {
            return false;
        }

        foreach (var creator in creators)
        {
            var creatorType = creator.ContainingType;
            if (creatorType.TypeKind == TypeKind.Interface)
            {
                if (containing.TypeKind != TypeKind.Interface && containing.IsOrImplements(creatorType))
                {
                    foreach (var implemented in containing.AllInterfaces)
                    {
                        if (SymbolEqualityComparer.Default.Equals(implemented.OriginalDefinition, creatorType)
                            && SymbolEqualityComparer.Default.Equals(FindImplementation(containing, implemented, creator), definition))
                        {
                            return true;
                        }
                    }
                }
            }
            else if (creator.Name == definition.Name && creator.Parameters.Length == definition.Parameters.Length
                && !SymbolEqualityComparer.Default.Equals(containing, creatorType) && containing.IsOrDerivesFrom(creatorType))
            {
                // A provider's 'new' method that hides the base factory method (same name and arity in a derived type).
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when <paramref name="method"/> ends the session it is called on: <c>Dispose</c>/<c>DisposeAsync</c> of
    /// <c>IDisposable</c>/<c>IAsyncDisposable</c> (or the public method implementing them), or <c>DbConnection.Close</c>/<c>CloseAsync</c>
    /// and <c>IDbConnection.Close</c>, which return the connection to its pool.
    /// </summary>
    public static bool IsDisposal(IMethodSymbol method, KnownTypes types)
    {
        var definition = method.OriginalDefinition;
        switch (definition.Name)
        {
            case "Dispose" when definition.Parameters.Length == 0:
                return Implements(definition, types.IDisposable, "Dispose");
            case "DisposeAsync" when definition.Parameters.Length == 0:
                return Implements(definition, types.IAsyncDisposable, "DisposeAsync");
            case "Close" or "CloseAsync":
                var containing = definition.ContainingType;
                return containing.IsOrDerivesFrom(types.DbConnection) || containing.IsSame(types.IDbConnection)
                    || (definition.Name == "Close" && containing.IsOrImplements(types.IDbConnection) && Implements(definition, types.IDbConnection, "Close"));
            default:
                return false;
        }
    }

    private static bool Implements(IMethodSymbol method, INamedTypeSymbol? interfaceType, string name)
    {
        if (interfaceType is null)
        {
            return false;
        }

        var containing = method.ContainingType;
        if (SymbolEqualityComparer.Default.Equals(containing, interfaceType))
        {
            return true;
        }

        foreach (var member in interfaceType.GetMembers(name))
        {
            if (member is not IMethodSymbol interfaceMethod || containing.FindImplementationForInterfaceMember(interfaceMethod) is not IMethodSymbol implementation)
            {
                continue;
            }

            // The implementation may be the method itself, or a base method it overrides.
            var current = method;
            for (var i = 0; current is not null && i < MaxOverrideDepth; i++, current = current.OverriddenMethod?.OriginalDefinition)
            {
                if (SymbolEqualityComparer.Default.Equals(implementation.OriginalDefinition, current))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static IMethodSymbol? FindImplementation(INamedTypeSymbol type, INamedTypeSymbol constructedInterface, IMethodSymbol creator)
    {
        foreach (var member in constructedInterface.GetMembers(creator.Name))
        {
            if (member is IMethodSymbol candidate && SymbolEqualityComparer.Default.Equals(candidate.OriginalDefinition, creator))
            {
                return (type.FindImplementationForInterfaceMember(candidate) as IMethodSymbol)?.OriginalDefinition;
            }
        }

        return null;
    }
}
