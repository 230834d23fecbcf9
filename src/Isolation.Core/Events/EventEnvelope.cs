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

    internal EventEnvelope(string userId, string? connectionId, string runId, long sequence, DateTimeOffset timestamp, string type, object? payload)
    {
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

    /// <summary>Returns the envelope as UTF-8 JSON, serialized on first use and cached (all connections share one serializer).</summary>
    internal byte[] GetUtf8Json(JsonTypeInfo<EventEnvelope> typeInfo)
    {
        // Two connections may serialize at the same time; both produce the same bytes, so the race is harmless.
        return Volatile.Read(ref _utf8Json) ?? (_utf8Json = JsonSerializer.SerializeToUtf8Bytes(this, typeInfo));
    }
}
