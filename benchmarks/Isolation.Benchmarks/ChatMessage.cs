namespace Isolation.Benchmarks;

/// <summary>
/// What a hand-written backend without isolation sends per agent event: the same fields as <see cref="EventEnvelope"/>,
/// chosen by the caller instead of stamped from a scope.
/// </summary>
public sealed record ChatMessage(string UserId, string? ConnectionId, string? RunId, long Sequence, DateTimeOffset Timestamp, string Type, object? Payload);
