using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace Isolation.Redis.Tests.Support;

/// <summary>A real <see cref="ClientWebSocket"/> connected to one node, parsing every envelope it receives.</summary>
internal sealed class TestClient : IAsyncDisposable
{
    private readonly Channel<ReceivedEvent> _received = Channel.CreateUnbounded<ReceivedEvent>();
    private readonly ClientWebSocket _socket;
    private Task _readLoop = Task.CompletedTask;

    private TestClient(ClientWebSocket socket, string userId, string connectionId)
    {
        _socket = socket;
        UserId = userId;
        ConnectionId = connectionId;
    }

    public string UserId { get; }

    public string ConnectionId { get; }

    public static async Task<TestClient> ConnectAsync(TestNode node, string userId, string connectionId, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(node.BaseUri, $"/events?user={Uri.EscapeDataString(userId)}&conn={Uri.EscapeDataString(connectionId)}"), cancellationToken);
        await node.WaitForConnectionAsync(userId, connectionId, cancellationToken);
        var client = new TestClient(socket, userId, connectionId);
        client._readLoop = Task.Run(() => client.ReadLoopAsync(cancellationToken), cancellationToken);
        return client;
    }

    public ValueTask<ReceivedEvent> ReceiveAsync(CancellationToken cancellationToken) => _received.Reader.ReadAsync(cancellationToken);

    /// <summary>Reads events until the terminal event of <paramref name="runId"/>; returns all received on the way.</summary>
    public async Task<List<ReceivedEvent>> ReceiveRunAsync(string runId, CancellationToken cancellationToken)
    {
        var events = new List<ReceivedEvent>();
        while (true)
        {
            var received = await ReceiveAsync(cancellationToken);
            events.Add(received);
            if (received.RunId == runId && AgentEventTypes.IsTerminal(received.Type))
            {
                return events;
            }
        }
    }

    /// <summary>Everything received so far, without waiting.</summary>
    public List<ReceivedEvent> Drain()
    {
        var events = new List<ReceivedEvent>();
        while (_received.Reader.TryRead(out var received))
        {
            events.Add(received);
        }

        return events;
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        try
        {
            await _readLoop;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        var message = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(message.GetMemory(4096), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                message.Advance(result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                using (var document = JsonDocument.Parse(message.WrittenMemory))
                {
                    var root = document.RootElement;
                    _received.Writer.TryWrite(new ReceivedEvent(
                        root.GetProperty("userId").GetString()!,
                        root.GetProperty("runId").GetString()!,
                        root.GetProperty("sequence").GetInt64(),
                        root.GetProperty("type").GetString()!,
                        root.TryGetProperty("payload", out var payload) ? payload.Clone() : default));
                }

                message.ResetWrittenCount();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }
}

/// <summary>One envelope as the client saw it.</summary>
internal sealed record ReceivedEvent(string UserId, string RunId, long Sequence, string Type, JsonElement Payload);
