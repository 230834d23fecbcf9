namespace Isolation;

/// <summary>Creates <see cref="IsolationScope"/> instances: one per request or agent run.</summary>
/// <example>
/// <code>
/// await using var scope = scopeFactory.CreateScope(new UserExecutionContext(userId), TimeSpan.FromSeconds(30));
/// var agent = scope.GetAgent&lt;TriageAgent&gt;();
/// await agent.RunAsync(message, scope.Aborted);
/// </code>
/// </example>
public interface IIsolationScopeFactory
{
    /// <summary>Creates a scope for <paramref name="context"/> with its own DI scope and cancellation token.</summary>
    /// <param name="context">Who the work belongs to.</param>
    /// <param name="deadline">How long the work may run before <see cref="IsolationScope.Aborted"/> is cancelled; <see langword="null"/> uses <see cref="IsolationOptions.DefaultDeadline"/>.</param>
    /// <returns>The new scope; it becomes <see cref="IsolationScope.Current"/> for the calling flow. Dispose it when the work ends.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="deadline"/> is zero, negative or too large.</exception>
    IsolationScope CreateScope(UserExecutionContext context, TimeSpan? deadline = null);
}
