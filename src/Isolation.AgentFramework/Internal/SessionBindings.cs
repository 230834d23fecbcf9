using System.Runtime.CompilerServices;
using Microsoft.Agents.AI;

namespace Isolation.AgentFramework.Internal;

/// <summary>
/// Session instance → the scope that obtained it. A weak table: the binding lives exactly as long as the session object,
/// so a session dropped by its run costs nothing here.
/// </summary>
internal static class SessionBindings
{
    public const string ResourceType = "Microsoft.Agents.AI.AgentSession";

    private static readonly ConditionalWeakTable<AgentSession, SessionBinding> Table = new();

    /// <summary>Binds a session just loaded or created in <paramref name="scope"/> (replacing any binding: the store gave a fresh instance).</summary>
    public static void Bind(AgentSession session, IsolationScope scope, ConversationGates? gates, string? conversation, string? sessionId) =>
        Table.AddOrUpdate(session, new SessionBinding(scope, gates, conversation, sessionId));

    /// <summary>Records the conversation a session was saved under, keeping its scope.</summary>
    public static void SetConversation(AgentSession session, IsolationScope scope, ConversationGates gates, string conversation, string sessionId)
    {
        if (Table.TryGetValue(session, out var binding))
        {
            if (binding.Conversation is null)
            {
                binding.Gates = gates;
                binding.Conversation = conversation;
                binding.SessionId = sessionId;
            }
        }
        else
        {
            Table.AddOrUpdate(session, new SessionBinding(scope, gates, conversation, sessionId));
        }
    }

    /// <summary>
    /// Returns the binding of a session about to be run in <paramref name="scope"/>, binding an unknown session to it, and
    /// reports a session obtained by another user's scope or by a scope that has ended.
    /// </summary>
    public static SessionBinding Check(AgentSession session, IsolationScope scope)
    {
        if (!Table.TryGetValue(session, out var binding))
        {
            binding = Table.GetValue(session, _ => new SessionBinding(scope, null, null, null));
        }

        var owner = binding.Scope;
        if (ReferenceEquals(owner, scope) || scope.Mode == IsolationMode.Off)
        {
            return binding;
        }

        var conversation = binding.Conversation is null ? "a new conversation" : "conversation '" + binding.Conversation + "'";
        if (!string.Equals(owner.Context.UserId, scope.Context.UserId, StringComparison.Ordinal))
        {
            scope.ReportViolation(new IsolationViolation(
                ViolationKind.CrossScopeAccess,
                ResourceType,
                $"An AgentSession ({conversation}) obtained by user '{owner.Context.UserId}' (run {owner.Context.RunId}) is run by user '{scope.Context.UserId}' (run {scope.Context.RunId}). " +
                "Never share AgentSession instances between requests: load the conversation from the session store inside each run.",
                scope.Context,
                owner.Context));
        }
        else if (owner.IsDisposed)
        {
            scope.ReportViolation(new IsolationViolation(
                ViolationKind.UseAfterDispose,
                ResourceType,
                $"An AgentSession ({conversation}) obtained in run {owner.Context.RunId}, which has ended, is run again in run {scope.Context.RunId} of user '{scope.Context.UserId}'. " +
                "A session kept past its run goes stale: load it from the session store inside each run.",
                scope.Context,
                owner.Context));
        }
        else
        {
            scope.ReportViolation(new IsolationViolation(
                ViolationKind.CrossScopeAccess,
                ResourceType,
                $"An AgentSession ({conversation}) obtained in run {owner.Context.RunId} is run from another live run {scope.Context.RunId} of user '{scope.Context.UserId}'. " +
                "Each run loads its own session from the session store.",
                scope.Context,
                owner.Context));
        }

        return binding;
    }
}
