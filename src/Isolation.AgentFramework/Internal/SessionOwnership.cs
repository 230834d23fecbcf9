using Microsoft.Agents.AI;

namespace Isolation.AgentFramework.Internal;

/// <summary>
/// The owner record, kept in the session's own <see cref="AgentSession.StateBag"/> so that it is serialized and stored
/// with the session by any store: the owning user and the conversation it was recorded for.
/// </summary>
internal static class SessionOwnership
{
    public const string OwnerKey = "isolation.owner";
    public const string ConversationKeyName = "isolation.conversation";

    public static string? ReadOwner(AgentSession session) =>
        session.StateBag.TryGetValue<string>(OwnerKey, out var owner) ? owner : null;

    public static string? ReadConversation(AgentSession session) =>
        session.StateBag.TryGetValue<string>(ConversationKeyName, out var conversation) ? conversation : null;

    public static void Stamp(AgentSession session, string owner, string conversation)
    {
        session.StateBag.SetValue(OwnerKey, owner);
        session.StateBag.SetValue(ConversationKeyName, conversation);
    }
}
