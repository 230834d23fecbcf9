namespace Isolation.AgentFramework;

/// <summary>What <see cref="IsolatedAIAgent"/> does with a run on a conversation that already has a run in progress.</summary>
public enum ConcurrentRunBehavior
{
    /// <summary>The second run waits until the first has finished (cancelled with the run's token), then runs on the history the first left.</summary>
    Queue = 0,

    /// <summary>
    /// The second run is a <see cref="ViolationKind.ConcurrentUse"/>: thrown as <see cref="IsolationViolationException"/> in
    /// <see cref="IsolationMode.Enforce"/>; reported in <see cref="IsolationMode.Observe"/>, where the run then waits its turn as with <see cref="Queue"/>.
    /// </summary>
    Reject = 1,
}
