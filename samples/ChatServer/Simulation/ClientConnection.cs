using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace ChatServer.Simulation;

/// <summary>One simulated browser tab on <c>/ws</c>: a real <see cref="ClientWebSocket"/> and a loop that reads every event it is sent.</summary>
internal sealed class ClientConnection : ISimulatedConnection
{
    private readonly ClientWebSocket _socket = new();
    private readonly Uri _uri;
    private readonly Action<ISimulatedConnection, ReceivedEvent> _onEvent;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receiving = Task.CompletedTask;
    private volatile bool _slow;

    public ClientConnection(string name, int node, Uri uri, Action<ISimulatedConnection, ReceivedEvent> onEvent)
    {
        Name = name;
        Node = node;
        _uri = uri;
        _onEvent = onEvent;
    }

    public string Name { get; }

    public int Node { get; }

    /// <summary>Gets or sets the delay after each message read: a slow client whose server-side queue fills up meanwhile.</summary>
    public TimeSpan ReadDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    public bool Slow
    {
        get => _slow;
        set => _slow = value;
    }

    public long Received { get; private set; }

    /// <summary>Connects and waits for the server's <c>ready</c> event, so no event of this user can miss the connection.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await _socket.ConnectAsync(_uri, cancellationToken);
        _receiving = ReceiveLoopAsync();
        await _ready.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    public Task SendAsync(string json, CancellationToken cancellationToken) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>Drops the connection without a close handshake: a tab closed, a network gone.</summary>
    public void Vanish() => _socket.Abort();

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                _socket.Abort();
            }
        }

        await _receiving;
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _receiving;
        _socket.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (_socket.State is WebSocketState.Open or WebSocketState.CloseSent)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage && length < buffer.Length);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                Received++;
                var received = Parse(buffer.AsSpan(0, length));
                if (received.Type == "ready")
                {
                    _ready.TrySetResult();
                }

                _onEvent(this, received);
                if (_slow)
                {
                    await Task.Delay(ReadDelay);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Aborted (vanished) or the server went away.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _ready.TrySetException(new InvalidOperationException($"Connection {Name} ended before the server said it was ready."));
        }
    }

    private static ReceivedEvent Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            return ReceivedEvent.From(document.RootElement);
        }
        catch (JsonException)
        {
            return ReceivedEvent.Unparseable;
        }
    }
}

/// <summary>The parts of an event envelope the simulator checks.</summary>
internal sealed record ReceivedEvent(string UserId, string? RunId, string Type, long Sequence, string? Status, string? Text)
{
    public static ReceivedEvent Unparseable { get; } = new(string.Empty, null, "unparseable", 0, null, null);

    /// <summary>Reads an envelope's JSON (<c>docs/events.md</c>), as either transport delivers it.</summary>
    public static ReceivedEvent From(JsonElement root)
    {
        try
        {
            string? status = null;
            string? text = null;
            if (root.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object)
            {
                if (payload.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String)
                {
                    status = s.GetString();
                }

                if (payload.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                {
                    text = t.GetString();
                }
            }

            return new ReceivedEvent(
                root.GetProperty("userId").GetString() ?? string.Empty,
                root.TryGetProperty("runId", out var run) ? run.GetString() : null,
                root.GetProperty("type").GetString() ?? string.Empty,
                root.TryGetProperty("sequence", out var seq) ? seq.GetInt64() : 0,
                status,
                text);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return Unparseable;
        }
    }
}
