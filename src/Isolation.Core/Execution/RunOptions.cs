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

    /// <summary>
    /// Gets or sets whether this run's work starts on the thread pool instead of the caller's thread;
    /// <see langword="null"/> uses <see cref="IsolatedRunnerOptions.StartOnThreadPool"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public bool? StartOnThreadPool { get; set; }
}
