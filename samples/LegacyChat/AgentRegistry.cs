namespace LegacyChat;

/// <summary>Keeps "each user's" agent; in practice a singleton every request shares.</summary>
public sealed class AgentRegistry
{
    private readonly Dictionary<string, TriageAgent> _agents = new(); // [ISO003 error]
    private readonly ConnectionManager _sockets;

    public AgentRegistry(ConnectionManager sockets) => _sockets = sockets;

    public TriageAgent GetOrCreate(string userId)
    {
        lock (_agents)
        {
            if (!_agents.TryGetValue(userId, out var agent))
            {
                agent = new TriageAgent(_sockets); // [ISO004 warning]
                _agents[userId] = agent;
            }

            return agent;
        }
    }
}
