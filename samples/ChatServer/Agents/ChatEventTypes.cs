namespace ChatServer.Agents;

/// <summary>The sample's own event types, next to the library's <c>AgentEventTypes</c>.</summary>
public static class ChatEventTypes
{
    /// <summary>The assistant's answer text; followed by <c>agent_completed</c>.</summary>
    public const string Answer = "answer";

    /// <summary>Sent when a connection is registered: from then on the user's events reach it. Carries the connection id.</summary>
    public const string Ready = "ready";

    /// <summary>A message the server could not act on (bad JSON, unknown type, unknown run, duplicate run id, …).</summary>
    public const string ProtocolError = "protocol_error";
}
