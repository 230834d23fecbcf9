using Microsoft.AspNetCore.SignalR;

namespace Isolation.AspNetCore.SignalR;

/// <summary>Starts <see cref="IIsolatedRunner"/> runs from SignalR hub methods.</summary>
public static class IsolatedRunnerHubExtensions
{
    /// <summary>
    /// Starts a run for the calling user and connection and returns at once, so the hub method can return while the run's
    /// events stream to every connection of the user (with the client method of <see cref="IsolationHubOptions.ClientMethod"/>).
    /// The run ends with exactly one terminal event (<c>agent_completed</c>, <c>agent_failed</c>, <c>agent_timeout</c> or
    /// <c>agent_rejected</c>), whatever the work does; it gets its own scope, so it outlives the invocation.
    /// </summary>
    /// <param name="runner">The runner.</param>
    /// <param name="caller">The hub's <c>Context</c>.</param>
    /// <param name="work">The run's work; it gets the run's scope and a token cancelled at the deadline or on <paramref name="cancellationToken"/>.</param>
    /// <param name="options">Per-run settings (deadline, completion payload), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the run, e.g. <c>Context.ConnectionAborted</c> to stop it when the caller's connection closes.</param>
    /// <returns>The started run.</returns>
    /// <exception cref="HubException">The connection has no user (<c>Context.UserIdentifier</c> is empty).</exception>
    /// <example>
    /// <code>
    /// public string Ask(string message) =>
    ///     runner.StartRun(Context, (scope, ct) => scope.GetAgent&lt;TriageAgent&gt;().AnswerAsync(message, ct)).RunId;
    /// </code>
    /// </example>
    public static HubRun StartRun(
        this IIsolatedRunner runner,
        HubCallerContext caller,
        Func<IsolationScope, CancellationToken, Task> work,
        RunOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(work);
        var context = IsolationHubFilter.CreateContext(caller, nameof(StartRun), typeof(Hub));

        // Off the invocation's thread: the hub method returns now, and the run keeps going after the invocation's scope ends.
        var completion = Task.Run(() => runner.RunAsync(context, work, options, cancellationToken), CancellationToken.None);
        return new HubRun(context.RunId, completion);
    }
}
