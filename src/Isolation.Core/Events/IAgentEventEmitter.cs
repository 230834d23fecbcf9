namespace Isolation;

/// <summary>
/// The only way agent code sends events: bound to one <see cref="IsolationScope"/> (see <see cref="IsolationScope.Events"/>),
/// it stamps every event with that scope's user, connection and run, so agent code cannot address another user.
/// </summary>
/// <example>
/// <code>
/// await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, new { step = "triage" }, scope.Aborted);
/// </code>
/// </example>
public interface IAgentEventEmitter
{
    /// <summary>
    /// Sends an event to every connection of the scope's user. Never waits for a slow client: the event is queued per
    /// connection, and an event that cannot be delivered (no connection, full queue, run already ended) is dropped and
    /// counted on <c>isolation.events.dropped</c> instead of failing the caller.
    /// </summary>
    /// <param name="type">The event type, e.g. <see cref="AgentEventTypes.AgentThinking"/>; a terminal type ends the run's events.</param>
    /// <param name="payload">The payload, serialized as JSON with its runtime type; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the emit; an already cancelled token returns a cancelled task and sends nothing.</param>
    /// <returns>A task that completes when the event is queued (or dropped), not when it is delivered.</returns>
    /// <exception cref="ArgumentException"><paramref name="type"/> is empty.</exception>
    ValueTask EmitAsync(string type, object? payload, CancellationToken cancellationToken = default);
}
