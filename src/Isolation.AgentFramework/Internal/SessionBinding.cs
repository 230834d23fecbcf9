namespace Isolation.AgentFramework.Internal;

/// <summary>Which scope an <see cref="Microsoft.Agents.AI.AgentSession"/> instance belongs to, and which conversation it holds.</summary>
internal sealed class SessionBinding
{
    public SessionBinding(IsolationScope scope, ConversationGates? gates, string? conversation, string? sessionId)
    {
        Scope = scope;
        Gates = gates;
        Conversation = conversation;
        SessionId = sessionId;
    }

    public IsolationScope Scope { get; }

    /// <summary>Gets or sets the gates of the store the session was loaded from or saved to, or null for a session not stored yet.</summary>
    public ConversationGates? Gates { get; set; }

    /// <summary>Gets the conversation key (from the store the session was loaded from or saved to), or null for a session not stored yet.</summary>
    public string? Conversation { get; set; }

    /// <summary>Gets or sets the session id of the store key (for <c>gen_ai.conversation.id</c>).</summary>
    public string? SessionId { get; set; }

    /// <summary>Gets the gate of a session that has no conversation key: runs on this one instance take turns.</summary>
    public SemaphoreSlim LocalGate { get; } = new(1, 1);
}
