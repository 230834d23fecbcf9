using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;

namespace LegacyChat;

/// <summary>Every open socket in one dictionary, and a broadcast to all of them.</summary>
public sealed class ConnectionManager
{
    private readonly ConcurrentDictionary<string, WebSocket> _sockets = new();

    public void Add(string connectionId, WebSocket socket) => _sockets[connectionId] = socket;

    public void Remove(string connectionId) => _sockets.TryRemove(connectionId, out _);

    public async Task BroadcastAsync(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        foreach (var socket in _sockets.Values)
        {
            await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
    }
}
