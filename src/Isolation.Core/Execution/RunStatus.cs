namespace Isolation;

/// <summary>How an isolated run ended. Every run ends in exactly one of these, and its user gets the matching terminal event.</summary>
public enum RunStatus
{
    /// <summary>The work returned normally (<c>agent_completed</c>).</summary>
    Completed = 0,

    /// <summary>The work threw (<c>agent_failed</c>).</summary>
    Failed = 1,

    /// <summary>The deadline passed first (<c>agent_timeout</c>); the runner stopped waiting.</summary>
    TimedOut = 2,

    /// <summary>The caller cancelled the run, e.g. the client went away (<c>agent_failed</c> with reason <c>cancelled</c>).</summary>
    Cancelled = 3,

    /// <summary>The user already had the maximum number of runs in flight; the work never started (<c>agent_rejected</c>).</summary>
    Rejected = 4,
}
