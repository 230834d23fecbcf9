using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace Isolation.Tests.Events;

/// <summary>A real <see cref="ClientWebSocket"/> that parses every received envelope and notes when it arrived.</summary>
internal sealed class EventTestClient : IAsyncDisposable
{
    private readonly Channel<ReceivedEvent> _received = Channel.CreateUnbounded<ReceivedEvent>();
    private Task _readLoop = Task.CompletedTask;

    private EventTestClient(ClientWebSocket socket, string userId, string connectionId, WebSocketEventSink sink)
    {
        Socket = socket;
        UserId = userId;
        ConnectionId = connectionId;
        Sink = sink;
    }

    public ClientWebSocket Socket { get; }

    public string UserId { get; }

    public string ConnectionId { get; }

    /// <summary>The server-side sink of this connection.</summary>
    public WebSocketEventSink Sink { get; }

    /// <summary>Completes when the read loop ends (close received or connection lost).</summary>
    public Task ReadLoop => _readLoop;

    public static async Task<EventTestClient> ConnectAsync(
        EventTestServer server, string userId, string connectionId, CancellationToken cancellationToken, bool startReading = true, bool serverReads = true)
    {
        var socket = new ClientWebSocket();
        try
        {
            var query = $"/events?user={Uri.EscapeDataString(userId)}&conn={Uri.EscapeDataString(connectionId)}" + (serverReads ? string.Empty : "&read=0");
            await socket.ConnectAsync(new Uri(server.BaseUri, query), cancellationToken);
            var sink = await server.WaitForConnectionAsync(userId, connectionId, cancellationToken);
            var client = new EventTestClient(socket, userId, connectionId, sink);
            if (startReading)
            {
                client.StartReading(cancellationToken);
            }

            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void StartReading(CancellationToken cancellationToken) => _readLoop = Task.Run(() => ReadLoopAsync(cancellationToken), cancellationToken);

    public async Task<ReceivedEvent> ReceiveAsync(CancellationToken cancellationToken) => await _received.Reader.ReadAsync(cancellationToken);

    /// <summary>Reads events until one satisfies <paramref name="last"/>; returns all of them, that one included.</summary>
    public async Task<List<ReceivedEvent>> ReceiveUntilAsync(Func<ReceivedEvent, bool> last, CancellationToken cancellationToken)
    {
        var events = new List<ReceivedEvent>();
        while (true)
        {
            var received = await ReceiveAsync(cancellationToken);
            events.Add(received);
            if (last(received))
            {
                return events;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Socket.Abort();
        try
        {
            await _readLoop;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }

        Socket.Dispose();
    }

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        var message = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(message.GetMemory(4096), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                message.Advance(result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var receivedAt = Stopwatch.GetTimestamp();
                using (var document = JsonDocument.Parse(message.WrittenMemory))
                {
                    _received.Writer.TryWrite(ReceivedEvent.From(document.RootElement, receivedAt));
                }

                message.ResetWrittenCount();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Connection gone: the test decides whether that was expected.
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }
}

/// <summary>One envelope as the client saw it.</summary>
internal sealed record ReceivedEvent(string UserId, string? ConnectionId, string RunId, long Sequence, DateTimeOffset Timestamp, string Type, JsonElement Payload, long ReceivedAt)
{
    /// <summary>The latency from emit to receipt, when the payload carries <c>sentAt</c> (a <see cref="Stopwatch"/> timestamp).</summary>
    public TimeSpan? Latency => Payload.ValueKind == JsonValueKind.Object && Payload.TryGetProperty("sentAt", out var sentAt)
        ? Stopwatch.GetElapsedTime(sentAt.GetInt64(), ReceivedAt)
        : null;

    public static ReceivedEvent From(JsonElement root, long receivedAt) => new(
        root.GetProperty("userId").GetString()!,
        root.GetProperty("connectionId").GetString(),
        root.GetProperty("runId").GetString()!,
        root.GetProperty("sequence").GetInt64(),
        root.GetProperty("timestamp").GetDateTimeOffset(),
        root.GetProperty("type").GetString()!,
        root.GetProperty("payload").Clone(),
        receivedAt);
}

/// <summary>A payload that lets the receiver measure delivery latency in the same process.</summary>
internal sealed record LatencyProbe(long SentAt, int Index)
{
    public static LatencyProbe Now(int index) => new(Stopwatch.GetTimestamp(), index);
}
