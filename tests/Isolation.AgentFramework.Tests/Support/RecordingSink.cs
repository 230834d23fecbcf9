namespace Isolation.AgentFramework.Tests.Support;

/// <summary>A connection of another transport, as an application would write one: it records what it is given.</summary>
internal sealed class RecordingSink(string userId, string connectionId) : IEventSink
{
    private readonly object _lock = new();
    private readonly List<EventEnvelope> _received = [];

    public string UserId { get; } = userId;

    public string ConnectionId { get; } = connectionId;

    public List<EventEnvelope> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _received];
            }
        }
    }

    public bool TryWrite(EventEnvelope envelope)
    {
        lock (_lock)
        {
            _received.Add(envelope);
        }

        return true;
    }
}
