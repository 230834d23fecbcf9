using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace ChatServer.Tests.Infrastructure;

/// <summary>A client WebSocket that reads every event into a queue the test takes from in order.</summary>
internal sealed class TestSocket : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly ClientWebSocket _socket;
    private readonly Channel<TestEvent> _events = Channel.CreateUnbounded<TestEvent>();
    private readonly List<TestEvent> _all = [];
    private readonly Task _receiving;

    private TestSocket(ClientWebSocket socket)
    {
        _socket = socket;
        _receiving = ReceiveAsync();
    }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseStatusDescription => _socket.CloseStatusDescription;

    /// <summary>Gets every event received so far, in order.</summary>
    public IReadOnlyList<TestEvent> All
    {
        get
        {
            lock (_all)
            {
                return _all.ToList();
            }
        }
    }

    public static async Task<TestSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(uri, cancellationToken);
        return new TestSocket(socket);
    }

    public Task SendAsync(object message, CancellationToken cancellationToken) =>
        SendRawAsync(JsonSerializer.Serialize(message), cancellationToken);

    public Task SendRawAsync(string text, CancellationToken cancellationToken) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>Returns the next event that matches, skipping (and keeping in <see cref="All"/>) the others.</summary>
    public async Task<TestEvent> NextAsync(Func<TestEvent, bool> match, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Bound);
        while (true)
        {
            TestEvent next;
            try
            {
                next = await _events.Reader.ReadAsync(timeout.Token);
            }
            catch (ChannelClosedException)
            {
                throw new InvalidOperationException($"The socket closed ({_socket.CloseStatus}) before the expected event arrived. Received: {string.Join(", ", All.Select(e => e.Type))}");
            }

            if (match(next))
            {
                return next;
            }
        }
    }

    /// <summary>Reads events up to and including the terminal event of <paramref name="runId"/>.</summary>
    public async Task<IReadOnlyList<TestEvent>> RunEventsAsync(string runId, CancellationToken cancellationToken)
    {
        var events = new List<TestEvent>();
        while (true)
        {
            var next = await NextAsync(e => e.RunId == runId, cancellationToken);
            events.Add(next);
            if (Isolation.AgentEventTypes.IsTerminal(next.Type))
            {
                return events;
            }
        }
    }

    /// <summary>Waits until the server closed the socket.</summary>
    public async Task WaitForCloseAsync(CancellationToken cancellationToken) => await _receiving.WaitAsync(Bound, cancellationToken);

    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_socket.State == WebSocketState.Open)
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
        }

        await _receiving.WaitAsync(Bound, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _receiving;
        _socket.Dispose();
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                var parsed = TestEvent.Parse(Encoding.UTF8.GetString(buffer, 0, length));
                lock (_all)
                {
                    _all.Add(parsed);
                }

                _events.Writer.TryWrite(parsed);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Aborted by the test or the server.
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }
}

/// <summary>One event as the client received it.</summary>
internal sealed record TestEvent(string UserId, string? ConnectionId, string? RunId, long Sequence, string Type, JsonElement Payload, string Raw)
{
    public static TestEvent Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new TestEvent(
            root.GetProperty("userId").GetString()!,
            root.TryGetProperty("connectionId", out var c) ? c.GetString() : null,
            root.TryGetProperty("runId", out var r) ? r.GetString() : null,
            root.GetProperty("sequence").GetInt64(),
            root.GetProperty("type").GetString()!,
            root.TryGetProperty("payload", out var p) ? p.Clone() : default,
            json);
    }

    public string? PayloadString(string name) =>
        Payload.ValueKind == JsonValueKind.Object && Payload.TryGetProperty(name, out var value) ? value.ToString() : null;
}
