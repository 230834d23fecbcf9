using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Isolation.Tests.Events;

/// <summary>
/// A real Kestrel server on 127.0.0.1 (port chosen by the OS) with the connection handler an application would write:
/// accept the WebSocket, register it for the user named in the query string, read until the client closes, dispose the sink.
/// With <c>read=0</c> the handler does not read at all, so only the sink's own machinery can notice a dead client.
/// </summary>
internal sealed class EventTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<WebSocketEventSink>> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Task> _handlers = new();

    private EventTestServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
        Registry = (ConnectionRegistry)app.Services.GetRequiredService<IConnectionRegistry>();
        Scopes = app.Services.GetRequiredService<IIsolationScopeFactory>();
        Monitor = app.Services.GetRequiredService<IsolationMonitor>();
    }

    public Uri BaseUri { get; }

    public IServiceProvider Services => _app.Services;

    public ConnectionRegistry Registry { get; }

    public IIsolationScopeFactory Scopes { get; }

    public IsolationMonitor Monitor { get; }

    public static async Task<EventTestServer> StartAsync(CancellationToken cancellationToken, Action<EventDeliveryOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddIsolation();
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }

        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.UseWebSockets();
        EventTestServer? server = null;
        app.Map("/events", (HttpContext http) => server!.HandleAsync(http));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var uri = new UriBuilder(address) { Scheme = "ws" }.Uri;
        server = new EventTestServer(app, uri);
        return server;
    }

    /// <summary>Waits until the server has registered the connection, and returns its sink.</summary>
    public Task<WebSocketEventSink> WaitForConnectionAsync(string userId, string connectionId, CancellationToken cancellationToken) =>
        Connection(userId, connectionId).Task.WaitAsync(cancellationToken);

    /// <summary>Waits until every connection handler has returned.</summary>
    public Task WaitForHandlersAsync(CancellationToken cancellationToken) => Task.WhenAll(_handlers).WaitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private TaskCompletionSource<WebSocketEventSink> Connection(string userId, string connectionId) =>
        _connections.GetOrAdd(userId + "/" + connectionId, static _ => new TaskCompletionSource<WebSocketEventSink>(TaskCreationOptions.RunContinuationsAsynchronously));

    private Task HandleAsync(HttpContext http)
    {
        var handler = HandleCoreAsync(http);
        _handlers.Enqueue(handler);
        return handler;
    }

    private async Task HandleCoreAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var userId = http.Request.Query["user"].ToString();
        var connectionId = http.Request.Query["conn"].ToString();
        var read = http.Request.Query["read"].ToString() != "0";
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var sink = Registry.RegisterWebSocket(socket, userId, connectionId, http.RequestAborted);
        try
        {
            Connection(userId, connectionId).TrySetResult(sink);
            if (!read)
            {
                await sink.Completion;
                return;
            }

            var buffer = new byte[4096];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, http.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Stop sending before answering the close: one send in flight per socket, ours or the sink's.
                    await sink.DisposeAsync();
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, http.RequestAborted);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away without a close handshake.
        }
        finally
        {
            await sink.DisposeAsync();
        }
    }
}
