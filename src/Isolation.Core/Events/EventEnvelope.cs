using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Isolation;

/// <summary>
/// One agent event as it travels to a user's connections: who it belongs to (stamped from the emitting scope, never
/// chosen by agent code), its place in the run, when it happened, its type and its payload. Immutable.
/// </summary>
/// <remarks>
/// Serialized as JSON with camel-case names:
/// <c>{"userId":"alice","connectionId":"c-1","runId":"…","sequence":3,"timestamp":"…","type":"agent_thinking","payload":{…}}</c>.
/// </remarks>
public sealed class EventEnvelope
{
    // The JSON text, serialized once by the first connection that sends it and shared by the others of the same user.
    private byte[]? _utf8Json;

    /// <summary>
    /// Creates an envelope. Agent code never does this (<see cref="IsolationScope.Events"/> stamps envelopes from the scope);
    /// transports do, to rebuild an envelope that crossed a process boundary before handing it to
    /// <see cref="IConnectionRegistry.Publish"/>, where every sink's owner check still applies.
    /// </summary>
    /// <param name="userId">The user the event belongs to.</param>
    /// <param name="connectionId">The connection the run was started from, if any.</param>
    /// <param name="runId">The run the event belongs to.</param>
    /// <param name="sequence">The event's position in its run (1, 2, …); 0 for an event that belongs to no run's sequence.</param>
    /// <param name="timestamp">When the event was emitted.</param>
    /// <param name="type">The event type.</param>
    /// <param name="payload">The payload, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">An identifier or the type is empty, or <paramref name="sequence"/> is negative.</exception>
    public EventEnvelope(string userId, string? connectionId, string runId, long sequence, DateTimeOffset timestamp, string type, object? payload)
        : this(Validate(userId, nameof(userId)), connectionId, Validate(runId, nameof(runId)), sequence, timestamp, Validate(type, nameof(type)), payload, trusted: true)
    {
        if (sequence < 0)
        {
            Internal.ThrowHelper.ThrowArgument(
                $"The sequence of an event must be 0 or more (1 for a run's first event); got {sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)}.",
                nameof(sequence));
        }
    }

    // The emitter's constructor: its values come from a validated context and a non-empty type.
    internal EventEnvelope(string userId, string? connectionId, string runId, long sequence, DateTimeOffset timestamp, string type, object? payload, bool trusted)
    {
        _ = trusted;
        UserId = userId;
        ConnectionId = connectionId;
        RunId = runId;
        Sequence = sequence;
        Timestamp = timestamp;
        Type = type;
        Payload = payload;
    }

    /// <summary>Gets the user the event belongs to; only that user's connections receive it.</summary>
    public string UserId { get; }

    /// <summary>Gets the connection the run was started from, or <see langword="null"/> when its context named none.</summary>
    public string? ConnectionId { get; }

    /// <summary>Gets the run the event belongs to.</summary>
    public string RunId { get; }

    /// <summary>Gets the event's position in its run, starting at 1 and increasing by 1 per emitted event.</summary>
    public long Sequence { get; }

    /// <summary>Gets when the event was emitted, from the <see cref="TimeProvider"/> registered in DI.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Gets the event type, e.g. <see cref="AgentEventTypes.AgentThinking"/>.</summary>
    public string Type { get; }

    /// <summary>Gets the payload, serialized with its runtime type; <see langword="null"/> when there is none.</summary>
    public object? Payload { get; }

    /// <inheritdoc />
    public override string ToString() => Type + " #" + Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) + " of run " + RunId + " for user '" + UserId + "'";

    private static string Validate(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Internal.ThrowHelper.ThrowArgument(
                $"The {name} of an event envelope must not be null, empty or white space: events are routed and ordered by user, run and type.",
                name);
        }

        return value;
    }

    /// <summary>Returns the envelope as UTF-8 JSON, serialized on first use and cached (all connections share one serializer).</summary>
    internal byte[] GetUtf8Json(JsonTypeInfo<EventEnvelope> typeInfo)
    {
        // Two connections may serialize at the same time; both produce the same bytes, so the race is harmless.
        return Volatile.Read(ref _utf8Json) ?? (_utf8Json = JsonSerializer.SerializeToUtf8Bytes(this, typeInfo));
    }
}
