using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using ChatServer.Agents;
using ChatServer.Auth;
using Isolation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace ChatServer.Realtime;

/// <summary>
/// The <c>/ws</c> endpoint. The user comes from <c>HttpContext.User</c>, authenticated by JWT bearer authentication
/// (<see cref="ChatAuthentication"/>: query <c>access_token</c> or <c>Authorization: Bearer</c>); the connection id is made here. Each chat message starts an
/// isolated run (<see cref="IIsolatedRunner"/>); its events reach this user's connections only, through the connection
/// registry. A run is cancelled when the connection that started it ends.
/// </summary>
public sealed partial class ChatSocketHandler
{
    public const int MaxMessageBytes = 8 * 1024;

    private readonly IConnectionRegistry _registry;
    private readonly IIsolatedRunner _runner;
    private readonly ConnectionRegistry _connections;
    private readonly ActiveRuns _runs;
    private readonly ChatServerOptions _options;
    private readonly ILogger<ChatSocketHandler> _logger;

    public ChatSocketHandler(
        IConnectionRegistry registry,
        IIsolatedRunner runner,
        ConnectionRegistry connections,
        ActiveRuns runs,
        IOptions<ChatServerOptions> options,
        ILogger<ChatSocketHandler> logger)
    {
        _registry = registry;
        _runner = runner;
        _connections = connections;
        _runs = runs;
        _options = options.Value;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsync("This endpoint accepts WebSocket connections only.");
            return;
        }

        // Authenticated before the upgrade: a bad token never gets a socket. The challenge answers 401 with
        // WWW-Authenticate and logs why (ChatAuthentication).
        if (ChatAuthentication.UserIdOf(http.User) is not { } userId)
        {
            await http.ChallengeAsync(JwtBearerDefaults.AuthenticationScheme);
            return;
        }

        var connectionId = "c-" + Guid.NewGuid().ToString("N")[..16];
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var connectionEnded = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var sink = _registry.RegisterWebSocket(socket, userId, connectionId, http.RequestAborted);
        var runs = new List<Task>();
        LogConnected(userId, connectionId);
        try
        {
            // Tells the client it is registered: events of its user reach this socket from now on.
            Notify(userId, connectionId, null, ChatEventTypes.Ready, new ReadyPayload(userId, connectionId));
            await ReceiveAsync(socket, sink, userId, connectionId, runs, connectionEnded.Token, http.RequestAborted);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away without a close handshake: a vanished client.
        }
        finally
        {
            // The connection is gone: cancel the runs it started, let each end with its one terminal event (the
            // user's other connections still see it), then leave the registry.
            await connectionEnded.CancelAsync();
            await Task.WhenAll(runs);
            await sink.DisposeAsync();
            LogDisconnected(userId, connectionId);
        }
    }

    private async Task ReceiveAsync(
        WebSocket socket, WebSocketEventSink sink, string userId, string connectionId, List<Task> runs, CancellationToken connectionEnded, CancellationToken requestAborted)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxMessageBytes);
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == MaxMessageBytes)
                    {
                        await CloseAsync(socket, sink, WebSocketCloseStatus.MessageTooBig, $"Messages are limited to {MaxMessageBytes} bytes.", requestAborted);
                        return;
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(length, MaxMessageBytes - length), requestAborted);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await CloseAsync(socket, sink, WebSocketCloseStatus.NormalClosure, null, requestAborted);
                    return;
                }

                if (result.MessageType != WebSocketMessageType.Text)
                {
                    await CloseAsync(socket, sink, WebSocketCloseStatus.InvalidMessageType, "Send JSON text messages.", requestAborted);
                    return;
                }

                runs.RemoveAll(static t => t.IsCompleted);
                Dispatch(buffer.AsMemory(0, length), userId, connectionId, runs, connectionEnded);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task CloseAsync(WebSocket socket, WebSocketEventSink sink, WebSocketCloseStatus status, string? description, CancellationToken cancellationToken)
    {
        // Stop the sink first: one send in flight per socket, the sink's or ours.
        await sink.DisposeAsync();
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await socket.CloseOutputAsync(status, description, cancellationToken);
        }
    }

    private void Dispatch(ReadOnlyMemory<byte> json, string userId, string connectionId, List<Task> runs, CancellationToken connectionEnded)
    {
        ClientMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(json.Span, ClientMessageJsonContext.Default.ClientMessage);
        }
        catch (JsonException)
        {
            message = null;
        }

        if (message is null)
        {
            ProtocolError(userId, connectionId, null, "invalid_json", "The message is not a JSON object like {\"type\":\"chat\",\"text\":\"hello\"}.");
            return;
        }

        switch (message.Type)
        {
            case "chat":
                StartRun(message, userId, connectionId, runs, connectionEnded);
                break;
            case "cancel":
                if (message.RunId is null || !_runs.TryCancel(userId, message.RunId))
                {
                    ProtocolError(userId, connectionId, null, "unknown_run", "You have no run in progress with that id.");
                }

                break;
            default:
                ProtocolError(userId, connectionId, null, "unknown_type", "Message type must be \"chat\" or \"cancel\".");
                break;
        }
    }

    private void StartRun(ClientMessage message, string userId, string connectionId, List<Task> runs, CancellationToken connectionEnded)
    {
        var text = message.Text?.Trim();
        if (string.IsNullOrEmpty(text) || text.Length > _options.MaxMessageLength)
        {
            ProtocolError(userId, connectionId, null, "invalid_text", $"A chat message needs a text of 1 to {_options.MaxMessageLength} characters.");
            return;
        }

        if ((message.RunId is not null && !IdPattern().IsMatch(message.RunId)) || (message.ThreadId is not null && !IdPattern().IsMatch(message.ThreadId)))
        {
            ProtocolError(userId, connectionId, null, "invalid_id", "runId and threadId may hold 1 to 100 letters, digits, '-', '_', '.' or ':'.");
            return;
        }

        var runId = message.RunId ?? Guid.NewGuid().ToString("N");
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(connectionEnded);
        if (!_runs.TryAdd(userId, runId, cancellation))
        {
            cancellation.Dispose();
            ProtocolError(userId, connectionId, runId, "duplicate_run", "You already have a run in progress with that id.");
            return;
        }

        var context = new UserExecutionContext(userId, connectionId, runId, message.ThreadId ?? "main");
        runs.Add(RunAsync(context, text, cancellation));
    }

    private async Task RunAsync(UserExecutionContext context, string text, CancellationTokenSource cancellation)
    {
        try
        {
            var result = await _runner.RunAsync(context, RunWorkAsync, options: null, cancellation.Token);
            LogRunEnded(context.UserId, context.RunId, result.Status, result.Duration.TotalMilliseconds);
        }
        finally
        {
            _runs.Remove(context.UserId, context.RunId);
            cancellation.Dispose();
        }

        async Task RunWorkAsync(IsolationScope scope, CancellationToken cancellationToken)
        {
            _runs.WorkStarted();
            try
            {
                await scope.GetAgent<ChatAgent>().RunAsync(text, cancellationToken);
            }
            finally
            {
                _runs.WorkEnded();
            }
        }
    }

    private void ProtocolError(string userId, string connectionId, string? runId, string code, string message) =>
        Notify(userId, connectionId, runId, ChatEventTypes.ProtocolError, new ProtocolErrorPayload(code, message));

    // To this connection only, stamped with its own user and owner-checked by the registry. No scope: these messages are
    // about the connection, not runs of work, so they do not count in the isolation score.
    private void Notify(string userId, string connectionId, string? runId, string type, object payload) =>
        _connections.SendToConnection(userId, connectionId, type, payload, runId);

    /// <summary>What a <c>runId</c> or <c>threadId</c> may hold, on either transport.</summary>
    [GeneratedRegex("^[A-Za-z0-9_.:-]{1,100}$")]
    internal static partial Regex IdPattern();

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "User {UserId} connected ({ConnectionId})")]
    private partial void LogConnected(string userId, string connectionId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "User {UserId} disconnected ({ConnectionId})")]
    private partial void LogDisconnected(string userId, string connectionId);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Run {RunId} of {UserId} ended {Status} after {DurationMs:0.#} ms")]
    private partial void LogRunEnded(string userId, string runId, RunStatus status, double durationMs);
}
