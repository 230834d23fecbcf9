using System.Runtime.CompilerServices;

namespace Isolation.Benchmarks;

/// <summary>An event sink that only counts: delivery benchmarks measure routing, not queueing.</summary>
public sealed class CountingSink(string userId, string connectionId) : IEventSink
{
    public string UserId { get; } = userId;

    public string ConnectionId { get; } = connectionId;

    public long Count { get; private set; }

    // Not inlined, so a direct write costs a real call, as the registry's does.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool TryWrite(EventEnvelope envelope)
    {
        Count++;
        return true;
    }
}
