using System.Collections.Concurrent;
using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Classification;

/// <summary>
/// The shared classification every rule uses: is a type request-scoped (an agent or a session), does a member's type
/// hold one, is a type singleton-lifetime by itself, is it a per-request handler. One instance per compilation and
/// configuration; results are cached, so each type is classified once however many members mention it.
/// </summary>
internal sealed class TypeClassifier
{
    private const int MaxContainerDepth = 4;
    private const int MaxConstraintDepth = 8;

    private readonly KnownTypes _types;
    private readonly IsolationConfiguration _configuration;
    private readonly ConcurrentDictionary<ITypeSymbol, RequestScopedKind> _kinds = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<ITypeSymbol, HeldState> _held = new(SymbolEqualityComparer.Default);

    public TypeClassifier(KnownTypes types, IsolationConfiguration configuration)
    {
        _types = types;
        _configuration = configuration;
    }

    public KnownTypes Types => _types;

    /// <summary>Whether <paramref name="type"/> itself is an agent, a session, or neither.</summary>
    public RequestScopedKind Classify(ITypeSymbol? type) => Classify(type, 0);

    /// <summary>
    /// The request-scoped state a member of this declared type holds: the type itself, or the element of an array,
    /// collection, dictionary (its values), <c>Lazy&lt;T&gt;</c>, <c>Task&lt;T&gt;</c> or <c>ValueTask&lt;T&gt;</c>, nested up to a few levels.
    /// </summary>
    public HeldState GetHeldState(ITypeSymbol? type)
    {
        if (type is null || type.TypeKind == TypeKind.Error)
        {
            return HeldState.None;
        }

        return _held.GetOrAdd(type, t => ComputeHeldState(t, 0));
    }

    /// <summary>
    /// A collection whose contents can change: it is or implements <c>ICollection&lt;T&gt;</c> and is not an array, an
    /// immutable or frozen collection, or a read-only wrapper. Declared type counts: an <c>IReadOnlyList&lt;T&gt;</c> field is not mutable.
    /// </summary>
    public bool IsMutableCollection(ITypeSymbol? type)
    {
        if (type is null || type.TypeKind is TypeKind.Array or TypeKind.Error || type.SpecialType == SpecialType.System_String)
        {
            return false;
        }

        if (type.GetCollectionElementType(_types.ICollectionOfT) is null)
        {
            return false;
        }

        var ns = type.ContainingNamespace?.ToDisplayString();
        if (ns is "System.Collections.Immutable" or "System.Collections.Frozen")
        {
            return false;
        }

        return !type.IsOrDerivesFrom(_types.ReadOnlyCollection) && !type.IsOrDerivesFrom(_types.ReadOnlyDictionary);
    }

    /// <summary>Why <paramref name="type"/> lives as long as the process by itself (hosted service, middleware, configuration), or null.</summary>
    public string? GetIntrinsicSingletonReason(INamedTypeSymbol type)
    {
        if (type.TypeKind != TypeKind.Class)
        {
            return null;
        }

        if (type.IsOrImplements(_types.IHostedService))
        {
            return "hosted service";
        }

        if (IsConventionalMiddleware(type))
        {
            return "middleware";
        }

        return MatchesSelfOrBase(type, _configuration.SingletonTypes) ? IsolationConfiguration.SingletonTypesKey : null;
    }

    /// <summary>Why <paramref name="type"/> is created per request (agent, SignalR hub, controller, page model), or null.</summary>
    public string? GetHandlerReason(INamedTypeSymbol type)
    {
        if (type.TypeKind != TypeKind.Class)
        {
            return null;
        }

        if (Classify(type) == RequestScopedKind.Agent)
        {
            return "agent";
        }

        if (type.IsOrDerivesFrom(_types.Hub) || type.IsOrDerivesFrom(_types.HubOfT))
        {
            return "SignalR hub";
        }

        if (type.IsOrDerivesFrom(_types.ControllerBase))
        {
            return "controller";
        }

        return type.IsOrDerivesFrom(_types.PageModel) ? "page model" : null;
    }

    private RequestScopedKind Classify(ITypeSymbol? type, int depth)
    {
        switch (type)
        {
            case null:
                return RequestScopedKind.None;
            case ITypeParameterSymbol parameter:
                // A 'where T : IAgent' type parameter holds an agent whatever T is.
                if (depth >= MaxConstraintDepth)
                {
                    return RequestScopedKind.None;
                }

                foreach (var constraint in parameter.ConstraintTypes)
                {
                    var kind = Classify(constraint, depth + 1);
                    if (kind != RequestScopedKind.None)
                    {
                        return kind;
                    }
                }

                return RequestScopedKind.None;
            case INamedTypeSymbol named when named.TypeKind != TypeKind.Error:
                return _kinds.GetOrAdd(named, t => ComputeKind((INamedTypeSymbol)t));
            default:
                return RequestScopedKind.None;
        }
    }

    private RequestScopedKind ComputeKind(INamedTypeSymbol type)
    {
        // An explicit marker is the author's statement and wins over everything else.
        if (type.IsOrImplements(_types.IAgent) || HasRequestScopedAttribute(type))
        {
            return RequestScopedKind.Agent;
        }

        // Shared-by-design types (AIAgent, IChatClient, HttpClient) are never request-scoped, whatever a wildcard says.
        foreach (var shared in _types.SharedByDesign)
        {
            if (type.IsAssignableTo(shared))
            {
                return RequestScopedKind.None;
            }
        }

        foreach (var session in _types.WellKnownSessions)
        {
            if (type.IsAssignableTo(session))
            {
                return RequestScopedKind.Session;
            }
        }

        if (IsConversation(type))
        {
            return RequestScopedKind.Session;
        }

        if (MatchesSelfOrBase(type, _configuration.AgentTypes))
        {
            return RequestScopedKind.Agent;
        }

        return MatchesSelfOrBase(type, _configuration.SessionTypes) ? RequestScopedKind.Session : RequestScopedKind.None;
    }

    private bool HasRequestScopedAttribute(INamedTypeSymbol type)
    {
        var attribute = _types.RequestScopedAttribute;
        if (attribute is null)
        {
            return false;
        }

        var current = type;
        for (var i = 0; current is not null && i < 64; i++)
        {
            if (current.HasAttribute(attribute))
            {
                return true;
            }

            current = current.BaseType;
        }

        foreach (var implemented in type.AllInterfaces)
        {
            if (implemented.HasAttribute(attribute))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A mutable collection of chat messages is one conversation.</summary>
    private bool IsConversation(INamedTypeSymbol type)
    {
        if (_types.ChatMessages.IsEmpty || !IsMutableCollection(type))
        {
            return false;
        }

        var element = type.GetCollectionElementType(_types.ICollectionOfT);
        foreach (var message in _types.ChatMessages)
        {
            if (element.IsOrDerivesFrom(message))
            {
                return true;
            }
        }

        return false;
    }

    private HeldState ComputeHeldState(ITypeSymbol type, int depth)
    {
        var kind = Classify(type, 0);
        if (kind != RequestScopedKind.None)
        {
            return new HeldState(kind, type, throughContainer: depth > 0);
        }

        if (depth >= MaxContainerDepth)
        {
            return HeldState.None;
        }

        var inner = GetContainedType(type);
        return inner is null ? HeldState.None : ComputeHeldState(inner, depth + 1);
    }

    private ITypeSymbol? GetContainedType(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol array)
        {
            return array.ElementType;
        }

        if (type is not INamedTypeSymbol named || type.SpecialType == SpecialType.System_String)
        {
            return null;
        }

        if (named.IsGenericType && named.TypeArguments.Length == 1)
        {
            var definition = named.OriginalDefinition;
            if (definition.IsSame(_types.LazyOfT) || definition.IsSame(_types.TaskOfT) || definition.IsSame(_types.ValueTaskOfT))
            {
                return named.TypeArguments[0];
            }
        }

        if (named.IsGenericType && named.TypeArguments.Length == 2 && named.OriginalDefinition.IsSame(_types.KeyValuePair))
        {
            return named.TypeArguments[1];
        }

        var element = type.GetEnumerableElementType(_types.IEnumerableOfT);
        if (element is INamedTypeSymbol { IsGenericType: true } pair && pair.TypeArguments.Length == 2 && pair.OriginalDefinition.IsSame(_types.KeyValuePair))
        {
            // A dictionary holds its values; a key is an identifier, not state.
            return pair.TypeArguments[1];
        }

        return element;
    }

    private bool IsConventionalMiddleware(INamedTypeSymbol type)
    {
        if (_types.RequestDelegate is null || _types.HttpContext is null)
        {
            return false;
        }

        var takesNext = false;
        foreach (var constructor in type.InstanceConstructors)
        {
            foreach (var parameter in constructor.Parameters)
            {
                if (parameter.Type.IsSame(_types.RequestDelegate))
                {
                    takesNext = true;
                    break;
                }
            }
        }

        if (!takesNext)
        {
            return false;
        }

        foreach (var member in type.GetMembers())
        {
            if (member is IMethodSymbol { IsStatic: false, Name: "Invoke" or "InvokeAsync", Parameters.Length: > 0 } method
                && method.Parameters[0].Type.IsSame(_types.HttpContext))
            {
                return true;
            }
        }

        return false;
    }

    private static bool MatchesSelfOrBase(INamedTypeSymbol type, TypeNamePatterns patterns)
    {
        if (patterns.IsEmpty)
        {
            return false;
        }

        var current = type;
        for (var i = 0; current is not null && i < 64; i++)
        {
            if (patterns.Matches(current))
            {
                return true;
            }

            current = current.BaseType;
        }

        foreach (var implemented in type.AllInterfaces)
        {
            if (patterns.Matches(implemented))
            {
                return true;
            }
        }

        return false;
    }
}
