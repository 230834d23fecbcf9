using System.Net.WebSockets;
using System.Text.Json;
using ChatServer.Realtime;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatServer.Simulation;

/// <summary>
/// One simulated tab on <c>/hub/chat</c>: a real SignalR client (<see cref="HubConnection"/>, WebSockets transport)
/// whose events arrive on the client method <c>isolation</c>. SignalR runs a connection's handlers one at a time, so a
/// slow handler is a slow reader. The WebSocket is created here so the tab can vanish without a close handshake.
/// </summary>
internal sealed class SignalRClientConnection : ISimulatedConnection
{
    /// <summary>The client method the server's <c>AddSignalR().AddIsolation()</c> sends events to.</summary>
    public const string EventMethod = "isolation";

    private static readonly TimeSpan ReadDelay = TimeSpan.FromMilliseconds(100);

    private readonly HubConnection _hub;
    private readonly Action<ISimulatedConnection, ReceivedEvent> _onEvent;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClientWebSocket? _socket;
    private volatile bool _slow;

    public SignalRClientConnection(string name, int node, Uri hubUri, Action<ISimulatedConnection, ReceivedEvent> onEvent)
    {
        Name = name;
        Node = node;
        _onEvent = onEvent;
        _hub = new HubConnectionBuilder()
            .WithUrl(hubUri, o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
                o.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var socket = new ClientWebSocket();
                    await socket.ConnectAsync(context.Uri, cancellationToken);
                    _socket = socket;
                    return socket;
                };
            })
            .Build();
        _hub.On<JsonElement>(EventMethod, OnEnvelopeAsync);
        _hub.Closed += _ =>
        {
            _ready.TrySetException(new InvalidOperationException($"Connection {Name} ended before the server said it was ready."));
            return Task.CompletedTask;
        };
    }

    public string Name { get; }

    public int Node { get; }

    public bool Slow
    {
        get => _slow;
        set => _slow = value;
    }

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await _hub.StartAsync(cancellationToken);
        await _ready.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    public async Task SendAsync(string json, CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(json);
        var message = document.RootElement;
        var type = message.TryGetProperty("type", out var t) ? t.GetString() : null;
        try
        {
            switch (type)
            {
                case "chat":
                    await _hub.InvokeAsync<string>(nameof(ChatHub.Chat), Text(message, "text"), Text(message, "runId"), Text(message, "threadId"), cancellationToken);
                    break;
                case "cancel":
                    await _hub.InvokeAsync(nameof(ChatHub.Cancel), Text(message, "runId"), cancellationToken);
                    break;
                default:
                    throw new ArgumentException($"The simulator has no SignalR call for a '{type}' message.", nameof(json));
            }
        }
        catch (HubException ex)
        {
            throw new InvalidOperationException($"{Name}: the hub refused the call: {ex.Message}", ex);
        }
    }

    public void Vanish() => _socket?.Abort();

    public async Task CloseAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _hub.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _socket?.Abort();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _hub.DisposeAsync();
        _socket?.Dispose();
    }

    private static string? Text(JsonElement message, string property) =>
        message.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private async Task OnEnvelopeAsync(JsonElement envelope)
    {
        var received = ReceivedEvent.From(envelope);
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
