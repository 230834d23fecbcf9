namespace Isolation.AgentFramework;

/// <summary>The event types <see cref="IsolatedAIAgent"/> sends through <see cref="IsolationScope.Events"/>, next to Core's <see cref="AgentEventTypes"/>.</summary>
public static class AgentFrameworkEventTypes
{
    /// <summary>A streamed piece of the answer: <c>agent_update</c>, payload <see cref="AgentUpdatePayload"/>.</summary>
    public const string AgentUpdate = "agent_update";
}
