using Microsoft.Extensions.DependencyInjection;

namespace Isolation;

/// <content>Agent events: the scope's emitter, stamped with the scope's context.</content>
public sealed partial class IsolationScope
{
    private ScopeEventEmitter? _events;

    /// <summary>
    /// Gets the emitter of this scope's agent events. Every event is stamped with this scope's user, connection and run,
    /// numbered per run and delivered only to that user's connections. Events emitted after a terminal event, or after the
    /// scope was disposed, are dropped and counted.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The scope was disposed before its emitter was first used.</exception>
    /// <example>
    /// <code>
    /// await scope.Events.EmitAsync(AgentEventTypes.ToolExecuting, new { tool = "search" }, scope.Aborted);
    /// </code>
    /// </example>
    public IAgentEventEmitter Events => Volatile.Read(ref _events) ?? CreateEvents();

    /// <summary>Gets the scope's emitter, created on first use (the runner uses it for terminal events and sealing).</summary>
    internal ScopeEventEmitter EventEmitter => Volatile.Read(ref _events) ?? CreateEvents();

    /// <summary>
    /// Closes the scope's emitter to its work (see <see cref="ScopeEventEmitter.CloseToWork"/>): what the runner does when it
    /// aborts a run, before <see cref="Aborted"/> is cancelled. A scope whose emitter was never used has nothing to close.
    /// </summary>
    internal void CloseEventsToWork() => Volatile.Read(ref _events)?.CloseToWork();

    private ScopeEventEmitter CreateEvents()
    {
        ThrowIfDisposed("the event emitter");
        var services = Services;
        var created = new ScopeEventEmitter(
            this,
            services.GetRequiredService<IConnectionRegistry>(),
            services.GetRequiredService<EventMetrics>(),
            services.GetRequiredService<TimeProvider>());
        return Interlocked.CompareExchange(ref _events, created, null) ?? created;
    }
}
