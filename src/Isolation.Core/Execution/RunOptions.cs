namespace Isolation;

/// <summary>Per-run settings for <see cref="IIsolatedRunner.RunAsync"/>; anything left unset uses <see cref="IsolatedRunnerOptions"/>.</summary>
public sealed class RunOptions
{
    /// <summary>Gets or sets this run's deadline; <see langword="null"/> uses <see cref="IsolatedRunnerOptions.DefaultDeadline"/>.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public TimeSpan? Deadline { get; set; }

    /// <summary>Gets or sets the payload of the <c>agent_completed</c> event; <see langword="null"/> sends the status alone.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public object? CompletedPayload { get; set; }
}
