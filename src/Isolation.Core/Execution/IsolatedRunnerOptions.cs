namespace Isolation;

/// <summary>Options of <see cref="IIsolatedRunner"/>, bound from the <c>Isolation:Runner</c> configuration section and validated at startup.</summary>
public sealed class IsolatedRunnerOptions
{
    internal const int DefaultMaxConcurrentRunsPerUser = 4;
    internal const string DefaultFailureMessage = "The assistant ran into a problem and stopped. Please try again.";
    internal static readonly TimeSpan DefaultDeadlineValue = TimeSpan.FromMinutes(2);
    internal static readonly TimeSpan DefaultAbandonedWorkTimeout = TimeSpan.FromSeconds(30);
    internal const int DefaultMaxAbandonedRuns = 64;
    internal const int MaxMaxAbandonedRuns = 100_000;

    /// <summary>Gets or sets the deadline of runs that do not set one. Positive, at most one day.</summary>
    /// <value>The default value is two minutes.</value>
    public TimeSpan DefaultDeadline { get; set; } = DefaultDeadlineValue;

    /// <summary>Gets or sets how many runs one user may have in flight; more are rejected (<c>agent_rejected</c>). From 1 to 10,000.</summary>
    /// <value>The default value is 4.</value>
    public int MaxConcurrentRunsPerUser { get; set; } = DefaultMaxConcurrentRunsPerUser;

    /// <summary>Gets or sets how many of a user's runs may wait for a slot instead of being rejected at once (0 to 10,000).</summary>
    /// <value>The default value is 0: over the limit is rejected immediately.</value>
    public int QueuedRunsPerUser { get; set; }

    /// <summary>
    /// Gets or sets how long work that ignored its deadline may keep its scope after the run timed out. When the work returns
    /// its scope is disposed at once; when it has not returned by then, the scope is disposed anyway so its sessions go back to their pools.
    /// Positive.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan AbandonedWorkTimeout { get; set; } = DefaultAbandonedWorkTimeout;

    /// <summary>
    /// Gets or sets how many abandoned runs (work still running after the runner stopped waiting for it, until it returns
    /// or is given up after <see cref="AbandonedWorkTimeout"/>) the process allows at once. While that many are abandoned,
    /// new runs are rejected (<c>agent_rejected</c>, with a message that says the server is busy), so hung work cannot pile
    /// up without bound. From 1 to 100,000; the gauge <c>isolation.runs.abandoned</c> shows the current number.
    /// </summary>
    /// <value>The default value is 64, sized for a host with two cores.</value>
    public int MaxAbandonedRuns { get; set; } = DefaultMaxAbandonedRuns;

    /// <summary>Gets or sets the message sent to the user with <c>agent_failed</c>: safe to show; the exception itself goes to the log only.</summary>
    /// <value>The default value is "The assistant ran into a problem and stopped. Please try again."</value>
    public string FailureMessage { get; set; } = DefaultFailureMessage;

    /// <summary>
    /// Gets or sets whether work starts on the thread pool instead of the caller's thread. Started on the caller's thread
    /// (the default, and the cheaper way), the work runs until its first await that does not complete at once before the
    /// runner can wait for it: the deadline is kept from then on, but work that blocks synchronously before that point holds
    /// the caller's thread until it returns (its run is then <see cref="RunStatus.TimedOut"/> when the deadline passed
    /// meanwhile). Set it when work may block synchronously (for example <c>.Result</c> on a task, or CPU-bound work),
    /// so that the runner stops waiting at the deadline whatever the work does. <see cref="RunOptions.StartOnThreadPool"/>
    /// overrides it for one run.
    /// </summary>
    /// <value>The default value is <see langword="false"/>: work starts on the caller's thread.</value>
    public bool StartOnThreadPool { get; set; }
}
