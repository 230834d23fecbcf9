namespace Isolation;

/// <summary>
/// Runs one unit of agent work in isolation: a fresh scope, a deadline, a per-user concurrency limit, failures contained
/// to the run, and exactly one terminal event to the run's user.
/// </summary>
/// <example>
/// <code>
/// var result = await runner.RunAsync(new UserExecutionContext(userId, connectionId), async (scope, ct) =>
/// {
///     var triage = scope.GetAgent&lt;TriageAgent&gt;();
///     await triage.HandleAsync(message, scope.Events, ct);
/// });
/// </code>
/// </example>
public interface IIsolatedRunner
{
    /// <summary>
    /// Runs <paramref name="work"/> in a new scope for <paramref name="context"/>. Never throws for the work's failures: an
    /// exception, a timeout, a cancellation or a rejection becomes the <see cref="RunResult"/> and the matching terminal event
    /// (<c>agent_completed</c>, <c>agent_failed</c>, <c>agent_timeout</c>, <c>agent_rejected</c>).
    /// </summary>
    /// <param name="context">Whose run it is.</param>
    /// <param name="work">The work; it gets the run's scope and a token cancelled at the deadline or when the run is cancelled.</param>
    /// <param name="options">Per-run settings, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the run (for example when the client disconnects).</param>
    /// <returns>How the run ended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> or <paramref name="work"/> is null.</exception>
    Task<RunResult> RunAsync(
        UserExecutionContext context,
        Func<IsolationScope, CancellationToken, Task> work,
        RunOptions? options = null,
        CancellationToken cancellationToken = default);
}
