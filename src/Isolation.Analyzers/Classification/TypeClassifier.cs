using System;
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
    private readonly ConcurrentDictionary<INamedTypeSymbol, DefinitionInfo> _definitions = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<INamedTypeSymbol, bool> _safeByDesign = new(SymbolEqualityComparer.Default);

    // Cached delegates: a lambda capturing 'this' would allocate on every cache lookup.
    private readonly Func<ITypeSymbol, RequestScopedKind> _computeKind;
    private readonly Func<ITypeSymbol, HeldState> _computeHeldState;
    private readonly Func<INamedTypeSymbol, DefinitionInfo> _computeDefinition;
    private readonly Func<INamedTypeSymbol, bool> _computeSafeByDesign;

    public TypeClassifier(KnownTypes types, IsolationConfiguration configuration)
    {
        _types = types;
        _configuration = configuration;
        _computeKind = t => ComputeKind((INamedTypeSymbol)t);
        _computeHeldState = t => ComputeHeldState(t, 0);
        _computeDefinition = ComputeDefinitionInfo;
        _computeSafeByDesign = t => SharedStateWrites.IsSafeByDesign(t, _types);
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

        return _held.GetOrAdd(type, _computeHeldState);
    }

    /// <summary>
    /// Whether reassigning a member of this type is not shared mutable state by design
    /// (<see cref="SharedStateWrites.IsSafeByDesign"/>), asked once per generic definition: the answer does not depend on
    /// type arguments, and the check reads the type's interfaces, which Roslyn hands out as a new array on every call.
    /// </summary>
    public bool IsSafeByDesign(ITypeSymbol type)
        => type is INamedTypeSymbol named ? _safeByDesign.GetOrAdd(named.OriginalDefinition, _computeSafeByDesign) : SharedStateWrites.IsSafeByDesign(type, _types);

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

        // Whether a generic type is a mutable collection does not depend on its type arguments: ask its definition once.
        return type is INamedTypeSymbol named ? GetDefinitionInfo(named.OriginalDefinition).IsMutableCollection : IsMutableCollectionCore(type);
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
                return _kinds.GetOrAdd(named, _computeKind);
            default:
                return RequestScopedKind.None;
        }
    }

    private RequestScopedKind ComputeKind(INamedTypeSymbol type)
    {
        // Markers, shared-by-design types, well-known sessions and configured names are found through the type's base
        // classes and interfaces by their original definitions, so they are the same for every construction of a generic
        // type: computed once per definition, without making Roslyn substitute the interfaces of each constructed type
        // (Dictionary<string, Unit42.Agent>). Only "a mutable collection of chat messages" depends on the type arguments.
        var info = GetDefinitionInfo(type.OriginalDefinition);
        if (info.IsFinal)
        {
            return info.Kind;
        }

        return IsConversation(type, info) ? RequestScopedKind.Session : info.Kind;
    }

    private DefinitionInfo GetDefinitionInfo(INamedTypeSymbol definition) => _definitions.GetOrAdd(definition, _computeDefinition);

    private DefinitionInfo ComputeDefinitionInfo(INamedTypeSymbol type)
    {
        var isMutableCollection = type.TypeKind != TypeKind.Error && type.SpecialType != SpecialType.System_String && IsMutableCollectionCore(type);
        var collectionElement = type.GetCollectionElementType(_types.ICollectionOfT);
        var enumerableElement = type.GetEnumerableElementType(_types.IEnumerableOfT);

        // An explicit marker is the author's statement and wins over everything else.
        if (type.IsOrImplements(_types.IAgent) || HasRequestScopedAttribute(type))
        {
            return new DefinitionInfo(RequestScopedKind.Agent, isFinal: true, isMutableCollection, collectionElement, enumerableElement);
        }

        // Shared-by-design types (AIAgent, IChatClient, HttpClient) are never request-scoped, whatever a wildcard says.
        foreach (var shared in _types.SharedByDesign)
        {
            if (type.IsAssignableTo(shared))
            {
                return new DefinitionInfo(RequestScopedKind.None, isFinal: true, isMutableCollection, collectionElement, enumerableElement);
            }
        }

        foreach (var session in _types.WellKnownSessions)
        {
            if (type.IsAssignableTo(session))
            {
                return new DefinitionInfo(RequestScopedKind.Session, isFinal: true, isMutableCollection, collectionElement, enumerableElement);
            }
        }

        // Checked after the conversation test (ComputeKind): a conversation is a session whatever the configuration says.
        var configured = MatchesSelfOrBase(type, _configuration.AgentTypes)
            ? RequestScopedKind.Agent
            : MatchesSelfOrBase(type, _configuration.SessionTypes) ? RequestScopedKind.Session : RequestScopedKind.None;
        return new DefinitionInfo(configured, isFinal: false, isMutableCollection, collectionElement, enumerableElement);
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
    private bool IsConversation(INamedTypeSymbol type, DefinitionInfo info)
    {
        if (_types.ChatMessages.IsEmpty || !info.IsMutableCollection)
        {
            return false;
        }

        // Only an element that is a type parameter changes with the type arguments: base classes of a constructed
        // element type have the same original definitions as those of the definition's element type.
        var element = info.CollectionElement;
        if (element is ITypeParameterSymbol && !IsDefinition(type)
            && !TrySubstitute(element, type, out element))
        {
            element = type.GetCollectionElementType(_types.ICollectionOfT);
        }

        foreach (var message in _types.ChatMessages)
        {
            if (element.IsOrDerivesFrom(message))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsMutableCollectionCore(ITypeSymbol type)
    {
        if (type.GetCollectionElementType(_types.ICollectionOfT) is null || IsImmutableOrFrozenNamespace(type.ContainingNamespace))
        {
            return false;
        }

        return !type.IsOrDerivesFrom(_types.ReadOnlyCollection) && !type.IsOrDerivesFrom(_types.ReadOnlyDictionary);
    }

    /// <summary>System.Collections.Immutable or System.Collections.Frozen, compared by name parts without building a string.</summary>
    private static bool IsImmutableOrFrozenNamespace(INamespaceSymbol? ns)
        => ns is { Name: "Immutable" or "Frozen" }
            && ns.ContainingNamespace is { Name: "Collections" } collections
            && collections.ContainingNamespace is { Name: "System" } system
            && system.ContainingNamespace is { IsGlobalNamespace: true };

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

        if (named.TypeKind == TypeKind.Error)
        {
            return GetContainedTypeFromInterfaces(named);
        }

        // The element is looked up on the definition (its interfaces need no substitution) and mapped through the type
        // arguments; only a shape that cannot be mapped that way asks the constructed type's own interfaces.
        var element = GetDefinitionInfo(named.OriginalDefinition).EnumerableElement;
        if (element is null || IsDefinition(named))
        {
            return ValueOfPair(element);
        }

        if (IsKeyValuePair(element))
        {
            return TrySubstitute(((INamedTypeSymbol)element).TypeArguments[1], named, out var value) ? value : GetContainedTypeFromInterfaces(named);
        }

        return TrySubstitute(element, named, out var substituted) ? ValueOfPair(substituted) : GetContainedTypeFromInterfaces(named);
    }

    private ITypeSymbol? GetContainedTypeFromInterfaces(ITypeSymbol type) => ValueOfPair(type.GetEnumerableElementType(_types.IEnumerableOfT));

    /// <summary>A dictionary holds its values; a key is an identifier, not state.</summary>
    private ITypeSymbol? ValueOfPair(ITypeSymbol? element)
        => IsKeyValuePair(element) ? ((INamedTypeSymbol)element!).TypeArguments[1] : element;

    private bool IsKeyValuePair(ITypeSymbol? type)
        => type is INamedTypeSymbol { IsGenericType: true } pair && pair.TypeArguments.Length == 2 && pair.OriginalDefinition.IsSame(_types.KeyValuePair);

    private static bool IsDefinition(INamedTypeSymbol type) => SymbolEqualityComparer.Default.Equals(type, type.OriginalDefinition);

    /// <summary>
    /// <paramref name="definitionType"/> (a type from the definition of <paramref name="constructed"/>) as it is in
    /// <paramref name="constructed"/>: one of its own type parameters becomes the type argument, a type without type
    /// parameters stays itself; anything else (a containing type's parameter, <c>List&lt;T&gt;</c>) is not mapped here.
    /// </summary>
    private static bool TrySubstitute(ITypeSymbol definitionType, INamedTypeSymbol constructed, out ITypeSymbol? result)
    {
        if (definitionType is ITypeParameterSymbol parameter)
        {
            if (parameter.TypeParameterKind == TypeParameterKind.Type
                && SymbolEqualityComparer.Default.Equals(parameter.ContainingSymbol, constructed.OriginalDefinition)
                && parameter.Ordinal < constructed.TypeArguments.Length)
            {
                result = constructed.TypeArguments[parameter.Ordinal];
                return true;
            }

            result = null;
            return false;
        }

        result = definitionType;
        return !ContainsTypeParameter(definitionType, 0);
    }

    private static bool ContainsTypeParameter(ITypeSymbol type, int depth)
    {
        if (depth >= MaxConstraintDepth)
        {
            return true;
        }

        switch (type)
        {
            case ITypeParameterSymbol:
                return true;
            case IArrayTypeSymbol array:
                return ContainsTypeParameter(array.ElementType, depth + 1);
            case IPointerTypeSymbol pointer:
                return ContainsTypeParameter(pointer.PointedAtType, depth + 1);
            case INamedTypeSymbol named:
                foreach (var argument in named.TypeArguments)
                {
                    if (ContainsTypeParameter(argument, depth + 1))
                    {
                        return true;
                    }
                }

                return named.ContainingType is { } containing && ContainsTypeParameter(containing, depth + 1);
            default:
                // Function pointers, dynamic and anything new: not mapped, the caller asks the constructed type.
                return type.TypeKind != TypeKind.Dynamic;
        }
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

    /// <summary>What a generic type's definition says for all of its constructions.</summary>
    private sealed class DefinitionInfo
    {
        public DefinitionInfo(RequestScopedKind kind, bool isFinal, bool isMutableCollection, ITypeSymbol? collectionElement, ITypeSymbol? enumerableElement)
        {
            Kind = kind;
            IsFinal = isFinal;
            IsMutableCollection = isMutableCollection;
            CollectionElement = collectionElement;
            EnumerableElement = enumerableElement;
        }

        /// <summary>The kind from markers, well-known types and configuration; when not <see cref="IsFinal"/>, a conversation overrides it.</summary>
        public RequestScopedKind Kind { get; }

        /// <summary>True when the kind was decided by a marker, a shared-by-design type or a well-known session.</summary>
        public bool IsFinal { get; }

        public bool IsMutableCollection { get; }

        /// <summary>The <c>T</c> of the definition's <c>ICollection&lt;T&gt;</c>, in the definition's own type parameters.</summary>
        public ITypeSymbol? CollectionElement { get; }

        /// <summary>The <c>T</c> of the definition's <c>IEnumerable&lt;T&gt;</c>, in the definition's own type parameters.</summary>
        public ITypeSymbol? EnumerableElement { get; }
    }
}
