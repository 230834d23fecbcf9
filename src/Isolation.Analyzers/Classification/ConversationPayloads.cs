using System;
using System.Collections.Concurrent;
using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Classification;

/// <summary>
/// What a pushed or broadcast value is: a message of one user's conversation with a model, and whether it says whose.
/// A conversation message is a chat message or an agent result/update of the AI libraries, or a type with a member of
/// one of those types or of a message role (<c>ChatRole</c>, <c>AuthorRole</c>): the user/assistant turns of one
/// conversation. A message says whose it is when it has a member naming its user, conversation, session or connection
/// (<c>UserId</c>, <c>ConversationId</c>, ...): then subscribers can filter on it. Computed once per type.
/// </summary>
internal sealed class ConversationPayloads
{
    private const int MaxBaseDepth = 16;

    /// <summary>Member names (suffixes, case-insensitive) that say which user or conversation a message belongs to.</summary>
    private static readonly string[] OwnerSuffixes =
    {
        "UserId", "UserName", "ConversationId", "SessionId", "ConnectionId", "ThreadId", "ChatId", "OwnerId", "TenantId",
        "ClientId", "RoomId", "GroupId", "RecipientId",
    };

    private readonly KnownTypes _types;
    private readonly ConcurrentDictionary<ITypeSymbol, Payload> _cache = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<INamedTypeSymbol, bool> _implementsSubject = new(SymbolEqualityComparer.Default);
    private readonly Func<ITypeSymbol, Payload> _classify;
    private readonly Func<INamedTypeSymbol, bool> _computeImplementsSubject;

    public ConversationPayloads(KnownTypes types)
    {
        _types = types;
        _classify = Classify;
        _computeImplementsSubject = definition => FindSubject(definition, _types.ObservableSubject!) is not null;
    }

    /// <summary>False when the compilation references no chat message, agent output or role type: nothing can be one.</summary>
    public bool Any => !_types.ChatMessages.IsEmpty || !_types.AgentOutputs.IsEmpty || !_types.ChatRoles.IsEmpty;

    /// <summary>True for a conversation message (see the type's summary).</summary>
    public bool IsConversationMessage(ITypeSymbol type) => Get(type) != Payload.None;

    /// <summary>True for a conversation message that does not say whose it is: no subscriber can filter it per user.</summary>
    public bool IsUnownedConversationMessage(ITypeSymbol type) => Get(type) == Payload.Unowned;

    /// <summary>
    /// The item type of a multicast stream (an Rx subject, a Dataflow <c>BroadcastBlock</c>) that every subscriber receives
    /// all of; null for any other type.
    /// </summary>
    public ITypeSymbol? GetMulticastItem(ITypeSymbol type)
    {
        if (type is not INamedTypeSymbol { IsGenericType: true } named)
        {
            return null;
        }

        if (_types.BroadcastBlock is { } block && SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, block))
        {
            return named.TypeArguments[0];
        }

        var subject = _types.ObservableSubject;
        if (subject is null)
        {
            return null;
        }

        if (SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, subject))
        {
            return named.TypeArguments[0];
        }

        // Asked of the generic definition first, once: a constructed type's interfaces are substituted (new symbols) on
        // first use, which is wasted on the lists and dictionaries that make up almost every generic member type.
        return _implementsSubject.GetOrAdd(named.OriginalDefinition, _computeImplementsSubject)
            ? FindSubject(named, subject)?.TypeArguments[0]
            : null;
    }

    private static INamedTypeSymbol? FindSubject(INamedTypeSymbol type, INamedTypeSymbol subject)
    {
        foreach (var implemented in type.AllInterfaces)
        {
            if (SymbolEqualityComparer.Default.Equals(implemented.OriginalDefinition, subject))
            {
                return implemented;
            }
        }

        return null;
    }

    private Payload Get(ITypeSymbol type)
    {
        if (type is not INamedTypeSymbol { TypeKind: TypeKind.Class or TypeKind.Struct or TypeKind.Interface } || type.SpecialType != SpecialType.None)
        {
            return Payload.None;
        }

        return _cache.GetOrAdd(type, _classify);
    }

    private Payload Classify(ITypeSymbol type)
    {
        var message = IsKnownMessage(type);
        var owned = false;
        var current = type;
        for (var depth = 0; current is not null && current.SpecialType == SpecialType.None && depth < MaxBaseDepth; depth++, current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                ITypeSymbol? memberType;
                switch (member)
                {
                    case IPropertySymbol { IsStatic: false, IsIndexer: false } property:
                        memberType = property.Type;
                        break;
                    case IFieldSymbol { IsStatic: false, IsImplicitlyDeclared: false } field:
                        memberType = field.Type;
                        break;
                    default:
                        continue;
                }

                if (!owned && HasOwnerName(member.Name))
                {
                    owned = true;
                }

                if (!message && (IsRole(memberType) || IsKnownMessage(memberType)))
                {
                    message = true;
                }
            }
        }

        return !message ? Payload.None : owned ? Payload.Owned : Payload.Unowned;
    }

    private bool IsKnownMessage(ITypeSymbol type)
    {
        foreach (var known in _types.ChatMessages)
        {
            if (type.IsOrDerivesFrom(known))
            {
                return true;
            }
        }

        foreach (var known in _types.AgentOutputs)
        {
            if (type.IsOrDerivesFrom(known))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsRole(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        foreach (var role in _types.ChatRoles)
        {
            if (SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, role))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasOwnerName(string name)
    {
        foreach (var suffix in OwnerSuffixes)
        {
            if (name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private enum Payload
    {
        None,
        Owned,
        Unowned,
    }
}
