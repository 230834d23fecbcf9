using Isolation;

namespace LegacyChat;

/// <summary>A triage agent whose events go to every connected socket.</summary>
public sealed class TriageAgent : IAgent
{
    private static int _turns; // [ISO005 error]
    private readonly List<string> _history = new();
    private readonly ConnectionManager _sockets;

    public TriageAgent(ConnectionManager sockets) => _sockets = sockets;

    public IReadOnlyList<string> History => _history;

    public async Task HandleAsync(string userId, string message)
    {
        _turns++;
        _history.Add(userId + ": " + message);
        await _sockets.BroadcastAsync("{\"type\":\"agent_thinking\",\"user\":\"" + userId + "\"}"); // [ISO201 error]
        await Task.Delay(10);
        await _sockets.BroadcastAsync("{\"type\":\"agent_completed\",\"answer\":\"Triage started\"}"); // [ISO201 error]
    }
}
