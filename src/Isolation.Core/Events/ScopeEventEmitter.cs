using Isolation.Internal;

namespace Isolation;

/// <summary>
/// The emitter of one scope: stamps envelopes with the scope's context, numbers them per run, and ends the run's events
/// at the first terminal event (or when the runner seals it, or when the scope is disposed).
/// </summary>
/// <remarks>
/// Stamping, numbering and queueing happen under one lock, so two flows of the same run cannot queue their events out of
/// order and nothing slips in after the terminal event. Queueing never waits, so the lock is held for a few hundred
/// nanoseconds at most, and only the run's own flows contend for it.
/// </remarks>
internal sealed class ScopeEventEmitter : IAgentEventEmitter
{
    private const int Open = 0;
    private const int Ended = 1;
    private const int Sealed = 2;
    // The run was aborted (its deadline, or the caller's cancellation) while its outcome is being decided: the work's
    // events are dropped, the runner's terminal event still goes out.
    private const int ClosedToWork = 3;

    private readonly IsolationScope _scope;
    private readonly IConnectionRegistry _registry;
    private readonly EventMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly object _lock = new();
    private long _sequence;
    private int _state;

    public ScopeEventEmitter(IsolationScope scope, IConnectionRegistry registry, EventMetrics metrics, TimeProvider time)
    {
        _scope = scope;
        _registry = registry;
        _metrics = metrics;
        _time = time;
    }

    /// <summary>Gets whether the run's events have ended: a terminal event was emitted, or the emitter was sealed.</summary>
    public bool HasEnded => Volatile.Read(ref _state) != Open;

    public ValueTask EmitAsync(string type, object? payload, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(type))
        {
            ThrowInvalidType(type);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Emit(type, payload, terminalOnly: false);
        return default;
    }

    /// <summary>
    /// Emits <paramref name="terminalType"/> unless the run's events already ended, then seals the emitter. The runner uses
    /// it so every run ends in exactly one terminal event.
    /// </summary>
    /// <returns><see langword="true"/> when this call emitted the terminal event.</returns>
    public bool TryEnd(string terminalType, object? payload)
    {
        if (!AgentEventTypes.IsTerminal(terminalType))
        {
            ThrowHelper.ThrowArgument(
                $"'{terminalType}' is not a terminal event type; a run ends with agent_completed, agent_failed, agent_timeout or agent_rejected.",
                nameof(terminalType));
        }

        return Emit(terminalType, payload, terminalOnly: true);
    }

    /// <summary>Emits a non-terminal event for the runner itself (e.g. <c>agent_started</c>); queueing never waits.</summary>
    public void EmitNow(string type, object? payload) => Emit(type, payload, terminalOnly: false);

    /// <summary>
    /// Closes the emitter to the run's work, at the moment the run is aborted and before its token is cancelled: whatever
    /// the work emits from then on, even from inside the cancellation, is dropped and counted (<c>run_ended</c>); the
    /// runner's <see cref="TryEnd"/> still sends the one terminal event. Does nothing once the run's events ended.
    /// </summary>
    public void CloseToWork()
    {
        lock (_lock)
        {
            if (_state == Open)
            {
                _state = ClosedToWork;
            }
        }
    }

    private static void ThrowInvalidType(string? type)
    {
        if (type is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(type));
        }

        ThrowHelper.ThrowArgument(
            "An event type must not be empty. Use one of AgentEventTypes (e.g. agent_thinking) or an application-defined name.",
            nameof(type));
    }

    private bool Emit(string type, object? payload, bool terminalOnly)
    {
        var context = _scope.Context;
        lock (_lock)
        {
            // A disposed scope's work was abandoned: whatever it still says is not part of the run any more.
            if ((_state != Open && !(terminalOnly && _state == ClosedToWork)) || _scope.IsDisposed)
            {
                if (_scope.IsDisposed)
                {
                    _state = Sealed;
                }

                _metrics.DroppedBeforeStamp(EventDropReasons.RunEnded, context, type);
                return false;
            }

            if (terminalOnly || AgentEventTypes.IsTerminal(type))
            {
                _state = terminalOnly ? Sealed : Ended;
            }

            var envelope = new EventEnvelope(
                context.UserId,
                context.ConnectionId,
                context.RunId,
                ++_sequence,
                _time.GetUtcNow(),
                type,
                payload,
                trusted: true);
            if (_registry.Publish(envelope).Refused != 0)
            {
                // A connection of another user was handed this run's event (and refused it): the run counts as violated.
                _scope.MarkViolated();
            }

            return true;
        }
    }
}
