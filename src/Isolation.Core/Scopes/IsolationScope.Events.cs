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

    /// <summary>Closes the scope's emitter so abandoned work can no longer send events (later emits are dropped and counted).</summary>
    internal void SealEvents() => EventEmitter.Seal();

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
