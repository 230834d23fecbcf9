namespace Isolation;

/// <summary>The payload of a run's terminal event (<c>agent_completed</c>, <c>agent_failed</c>, <c>agent_timeout</c>, <c>agent_rejected</c>).</summary>
public sealed class RunEndedEvent
{
    internal RunEndedEvent(string status, string? message, double durationMs, object? result)
    {
        Status = status;
        Message = message;
        DurationMs = durationMs;
        Result = result;
    }

    /// <summary>Gets how the run ended: <c>completed</c>, <c>failed</c>, <c>timed_out</c>, <c>cancelled</c> or <c>rejected</c>.</summary>
    public string Status { get; }

    /// <summary>Gets a message safe to show the user, for runs that did not complete; never exception details.</summary>
    public string? Message { get; }

    /// <summary>Gets how long the run took, in milliseconds.</summary>
    public double DurationMs { get; }

    /// <summary>Gets the completed run's payload (<see cref="RunOptions.CompletedPayload"/>), if any.</summary>
    public object? Result { get; }
}
