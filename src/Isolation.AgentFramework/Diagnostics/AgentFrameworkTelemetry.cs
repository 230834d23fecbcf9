namespace Isolation.AgentFramework;

/// <summary>The span attributes <see cref="IsolatedAIAgent"/> sets (OpenTelemetry GenAI semantic conventions next to Core's <c>isolation.*</c>).</summary>
public static class AgentFrameworkTelemetry
{
    /// <summary>The conversation of the run: <c>gen_ai.conversation.id</c> (the session store key's session id).</summary>
    public const string ConversationIdTag = "gen_ai.conversation.id";

    /// <summary>The agent's name: <c>gen_ai.agent.name</c>.</summary>
    public const string AgentNameTag = "gen_ai.agent.name";

    /// <summary>The GenAI operation of Agent Framework's <c>OpenTelemetryAgent</c> run span (<c>gen_ai.operation.name</c>, and the start of its display name): <c>invoke_agent</c>.</summary>
    public const string InvokeAgentOperation = "invoke_agent";
}
