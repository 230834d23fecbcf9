namespace Isolation.Benchmarks;

/// <summary>An event sink that only counts: delivery benchmarks measure routing, not queueing.</summary>
public sealed class CountingSink(string userId, string connectionId) : IEventSink
{
    public string UserId { get; } = userId;

    public string ConnectionId { get; } = connectionId;

    public long Count { get; private set; }

    public bool TryWrite(EventEnvelope envelope)
    {
        Count++;
        return true;
    }
}
