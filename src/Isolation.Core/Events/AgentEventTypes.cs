namespace Isolation;

/// <summary>
/// The agent event types the library knows. Four of them end a run (<see cref="IsTerminal"/>): after one of those, further
/// events of the same run are dropped. Other, application-defined types may be emitted too.
/// </summary>
public static class AgentEventTypes
{
    /// <summary>The run started: <c>agent_started</c>.</summary>
    public const string AgentStarted = "agent_started";

    /// <summary>The agent is working on the answer: <c>agent_thinking</c>.</summary>
    public const string AgentThinking = "agent_thinking";

    /// <summary>The agent started executing a tool: <c>tool_executing</c>.</summary>
    public const string ToolExecuting = "tool_executing";

    /// <summary>A tool finished: <c>tool_completed</c>.</summary>
    public const string ToolCompleted = "tool_completed";

    /// <summary>Terminal: the run completed: <c>agent_completed</c>.</summary>
    public const string AgentCompleted = "agent_completed";

    /// <summary>Terminal: the run failed: <c>agent_failed</c>.</summary>
    public const string AgentFailed = "agent_failed";

    /// <summary>Terminal: the run exceeded its deadline: <c>agent_timeout</c>.</summary>
    public const string AgentTimeout = "agent_timeout";

    /// <summary>Terminal: the run was not started (e.g. the user's concurrency limit was reached): <c>agent_rejected</c>.</summary>
    public const string AgentRejected = "agent_rejected";

    /// <summary>Returns whether <paramref name="type"/> ends a run: <see cref="AgentCompleted"/>, <see cref="AgentFailed"/>, <see cref="AgentTimeout"/> or <see cref="AgentRejected"/>.</summary>
    /// <param name="type">An event type.</param>
    /// <returns><see langword="true"/> for the four terminal types (compared ordinally).</returns>
    public static bool IsTerminal(string? type) => type switch
    {
        AgentCompleted or AgentFailed or AgentTimeout or AgentRejected => true,
        _ => false,
    };
}
