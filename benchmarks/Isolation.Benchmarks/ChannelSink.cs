using System.Threading.Channels;

namespace Isolation.Benchmarks;

/// <summary>
/// An event sink that queues into a bounded channel configured like <see cref="WebSocketEventSink"/>'s queue (drop oldest,
/// one reader, many writers). The benchmark drains it itself, so no writer loop runs on the other core.
/// </summary>
public sealed class ChannelSink : IEventSink
{
    public ChannelSink(string userId, string connectionId)
    {
        UserId = userId;
        ConnectionId = connectionId;
        Queue = BenchmarkChannels.Create<EventEnvelope>();
    }

    public string UserId { get; }

    public string ConnectionId { get; }

    public Channel<EventEnvelope> Queue { get; }

    public bool TryWrite(EventEnvelope envelope) => Queue.Writer.TryWrite(envelope);

    /// <summary>Reads everything queued; returns how many envelopes there were.</summary>
    public int Drain()
    {
        var count = 0;
        while (Queue.Reader.TryRead(out _))
        {
            count++;
        }

        return count;
    }
}
