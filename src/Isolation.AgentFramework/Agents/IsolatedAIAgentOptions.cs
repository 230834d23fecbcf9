namespace Isolation.AgentFramework;

/// <summary>Options of <see cref="IsolatedAIAgent"/>.</summary>
public sealed class IsolatedAIAgentOptions
{
    /// <summary>Gets or sets what happens to a run on a conversation that already has a run in progress.</summary>
    /// <value>The default value is <see cref="ConcurrentRunBehavior.Queue"/>.</value>
    public ConcurrentRunBehavior ConcurrentRuns { get; set; } = ConcurrentRunBehavior.Queue;

    /// <summary>
    /// Gets or sets a value indicating whether each streamed text update is sent to the user's connections as an
    /// <see cref="AgentFrameworkEventTypes.AgentUpdate"/> event. Tool events are sent either way.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool EmitUpdates { get; set; } = true;
}
