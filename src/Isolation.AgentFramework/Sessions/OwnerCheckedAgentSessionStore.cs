using Isolation.AgentFramework.Internal;
using Microsoft.Agents.AI;

namespace Isolation.AgentFramework;

/// <summary>
/// An <see cref="AgentSessionStore"/> that wraps any inner store and lets a user reach only their own conversations.
/// The first save of a conversation records its owner (the user of the current <see cref="IsolationScope"/>) inside the
/// session's state, so the record is stored with the session by the inner store and survives restarts and other nodes.
/// A load, save or delete of a conversation owned by another user is a <see cref="ViolationKind.CrossScopeAccess"/>:
/// counted against the scope, reported in <see cref="IsolationMode.Observe"/> and answered as "not found" (a load returns
/// <see langword="null"/>, a save or delete changes nothing), thrown as <see cref="IsolationViolationException"/> in
/// <see cref="IsolationMode.Enforce"/>. <see cref="IsolationMode.Off"/> records owners and checks nothing.
/// </summary>
/// <remarks>
/// Every call needs an ambient <see cref="IsolationScope"/> (it says who is asking); outside one it throws
/// <see cref="InvalidOperationException"/>. Sessions it returns are bound to the scope that loaded them, so
/// <see cref="IsolatedAIAgent"/> reports one that is used from another scope or after its scope ended. A stored session
/// without an owner record (written around this store) is treated as another user's.
/// </remarks>
/// <example>
/// <code>
/// AgentSessionStore store = new OwnerCheckedAgentSessionStore(new InMemoryAgentSessionStore());
/// // inside a run (IIsolatedRunner.RunAsync): conversationId comes from the client
/// var session = await store.GetOrCreateSessionAsync(agent, new AgentSessionStoreKey(conversationId), ct);
/// await agent.RunAsync(message, session, cancellationToken: ct);
/// await store.SaveSessionAsync(agent, new AgentSessionStoreKey(conversationId), session, ct);
/// </code>
/// </example>
public sealed class OwnerCheckedAgentSessionStore : DelegatingAgentSessionStore
{
    /// <summary>Initializes a new instance of the <see cref="OwnerCheckedAgentSessionStore"/> class.</summary>
    /// <param name="innerStore">The store that persists the sessions (with their owner records).</param>
    /// <exception cref="ArgumentNullException"><paramref name="innerStore"/> is <see langword="null"/>.</exception>
    public OwnerCheckedAgentSessionStore(AgentSessionStore innerStore)
        : base(Guard.NotNull(innerStore))
    {
        // Keyed by the inner store: two wrappers of one store share the turns of its conversations, two stores never do.
        Gates = ConversationGates.For(innerStore);
    }

    private ConversationGates Gates { get; }

    /// <inheritdoc />
    public override async ValueTask<AgentSession?> GetSessionAsync(AIAgent agent, AgentSessionStoreKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(agent);
        Guard.NotNull(key);
        var scope = ScopeRequirement.Current(nameof(OwnerCheckedAgentSessionStore), nameof(GetSessionAsync));
        var session = await InnerStore.GetSessionAsync(agent, key, cancellationToken).ConfigureAwait(false);
        if (session is null)
        {
            return null;
        }

        var conversation = ConversationKey.Of(key);
        if (scope.Mode != IsolationMode.Off && !IsOwnedBy(session, scope.Context.UserId, conversation))
        {
            Refuse(scope, key, session, "load");
            return null;
        }

        SessionBindings.Bind(session, scope, Gates, conversation, key.SessionId);
        return session;
    }

    /// <inheritdoc />
    public override async ValueTask SaveSessionAsync(AIAgent agent, AgentSessionStoreKey key, AgentSession session, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(agent);
        Guard.NotNull(key);
        Guard.NotNull(session);
        var scope = ScopeRequirement.Current(nameof(OwnerCheckedAgentSessionStore), nameof(SaveSessionAsync));
        var user = scope.Context.UserId;
        var conversation = ConversationKey.Of(key);

        // Fast path: a session loaded (or first saved) by this user for this very conversation carries its record.
        var owner = SessionOwnership.ReadOwner(session);
        var recordedFor = SessionOwnership.ReadConversation(session);
        if (!string.Equals(recordedFor, conversation, StringComparison.Ordinal) || owner is null)
        {
            // A new session, or one recorded for another conversation: whoever stored this conversation first owns it.
            var existing = await InnerStore.GetSessionAsync(agent, key, cancellationToken).ConfigureAwait(false);
            if (existing is not null && scope.Mode != IsolationMode.Off && !IsOwnedBy(existing, user, conversation))
            {
                Refuse(scope, key, existing, "save");
                return;
            }

            SessionOwnership.Stamp(session, user, conversation);
        }
        else if (!string.Equals(owner, user, StringComparison.Ordinal) && scope.Mode != IsolationMode.Off)
        {
            Refuse(scope, key, session, "save");
            return;
        }

        await InnerStore.SaveSessionAsync(agent, key, session, cancellationToken).ConfigureAwait(false);
        SessionBindings.SetConversation(session, scope, Gates, conversation, key.SessionId);
    }

    /// <inheritdoc />
    public override async ValueTask DeleteSessionAsync(AIAgent agent, AgentSessionStoreKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(agent);
        Guard.NotNull(key);
        var scope = ScopeRequirement.Current(nameof(OwnerCheckedAgentSessionStore), nameof(DeleteSessionAsync));
        if (scope.Mode != IsolationMode.Off)
        {
            var existing = await InnerStore.GetSessionAsync(agent, key, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                return;
            }

            if (!IsOwnedBy(existing, scope.Context.UserId, ConversationKey.Of(key)))
            {
                Refuse(scope, key, existing, "delete");
                return;
            }
        }

        await InnerStore.DeleteSessionAsync(agent, key, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsOwnedBy(AgentSession session, string user, string conversation) =>
        string.Equals(SessionOwnership.ReadOwner(session), user, StringComparison.Ordinal)
        && string.Equals(SessionOwnership.ReadConversation(session), conversation, StringComparison.Ordinal);

    private static void Refuse(IsolationScope scope, AgentSessionStoreKey key, AgentSession stored, string operation)
    {
        var owner = SessionOwnership.ReadOwner(stored);
        var ownerContext = string.IsNullOrEmpty(owner) ? null : new UserExecutionContext(owner);
        var whose = owner is null ? "has no recorded owner" : "belongs to another user";
        scope.ReportViolation(new IsolationViolation(
            ViolationKind.CrossScopeAccess,
            SessionBindings.ResourceType,
            $"Conversation '{key.SessionId}' {whose}: the {operation} by user '{scope.Context.UserId}' (run {scope.Context.RunId}) was refused and answered as not found. " +
            "A conversation id that comes from a client must be checked: only conversations this user created can be loaded, saved or deleted.",
            scope.Context,
            ownerContext));
    }
}
