namespace Isolation;

/// <summary>The outcome of one isolated run.</summary>
public sealed class RunResult
{
    internal RunResult(UserExecutionContext context, RunStatus status, TimeSpan duration, Exception? exception, int violations)
    {
        Context = context;
        Status = status;
        Duration = duration;
        Exception = exception;
        Violations = violations;
    }

    /// <summary>Gets whose run it was.</summary>
    public UserExecutionContext Context { get; }

    /// <summary>Gets how the run ended.</summary>
    public RunStatus Status { get; }

    /// <summary>Gets how long the run took, from the call to the terminal event (the work may go on after a timeout, abandoned).</summary>
    public TimeSpan Duration { get; }

    /// <summary>Gets the exception of a failed run, or the cancellation of a timed-out or cancelled one; <see langword="null"/> otherwise.</summary>
    public Exception? Exception { get; }

    /// <summary>Gets how many isolation violations were reported against the run's scope.</summary>
    public int Violations { get; }

    /// <summary>Gets a value indicating whether the run completed.</summary>
    public bool IsCompleted => Status == RunStatus.Completed;

    /// <inheritdoc />
    public override string ToString() => $"{Status} after {Duration.TotalMilliseconds:0.#} ms for {Context}";
}
