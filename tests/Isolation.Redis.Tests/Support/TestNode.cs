using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;

namespace Isolation.Redis.Tests.Support;

/// <summary>
/// One node of a deployment: a real Kestrel host on 127.0.0.1 (port chosen by the OS) with Redis event delivery and the
/// connection handler an application writes (accept the WebSocket, register it for the user in the query string, read until
/// the client closes). Several nodes run in one test process and share one Redis.
/// </summary>
internal sealed class TestNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _connections = new(StringComparer.Ordinal);
    private int _stopped;

    private TestNode(WebApplication app)
    {
        _app = app;
        Registry = app.Services.GetRequiredService<RedisConnectionRegistry>();
        Runner = app.Services.GetRequiredService<IIsolatedRunner>();
        Dropped = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), IsolationTelemetry.MeterName, IsolationTelemetry.EventsDropped);
        Received = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), RedisTelemetry.MeterName, RedisTelemetry.MessagesReceived);
        Sent = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), RedisTelemetry.MeterName, RedisTelemetry.MessagesSent);
    }

    public Uri BaseUri { get; private set; } = null!;

    public IServiceProvider Services => _app.Services;

    public RedisConnectionRegistry Registry { get; }

    public IIsolatedRunner Runner { get; }

    public string NodeId => Registry.NodeId;

    public MetricCollector<long> Dropped { get; }

    public MetricCollector<long> Received { get; }

    public MetricCollector<long> Sent { get; }

    public static async Task<TestNode> StartAsync(
        string redis, string prefix, string key, CancellationToken cancellationToken, Action<RedisEventDeliveryOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddIsolation().AddRedisEventDelivery(o =>
        {
            o.Configuration = redis;
            o.EnvironmentPrefix = prefix;
            o.SigningKey = key;
            configure?.Invoke(o);
        });
        builder.Services.AddHealthChecks().AddIsolationRedisHealthCheck();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.UseWebSockets();
        var node = new TestNode(app);
        app.Map("/events", node.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        node.BaseUri = new UriBuilder(address) { Scheme = "ws" }.Uri;
        return node;
    }

    public long DroppedCount(string reason) =>
        Dropped.GetMeasurementSnapshot().Where(m => Equals(m.Tags[IsolationTelemetry.DropReasonTag], reason)).Sum(m => m.Value);

    public async Task<HealthStatus> HealthAsync(CancellationToken cancellationToken) =>
        (await Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(cancellationToken)).Status;

    public Task WaitForConnectionAsync(string userId, string connectionId, CancellationToken cancellationToken) =>
        Connection(userId, connectionId).Task.WaitAsync(cancellationToken);

    /// <summary>Runs a user's turn on this node: <paramref name="events"/> agent_thinking events, then the runner's terminal event.</summary>
    public Task<RunResult> RunAsync(string userId, string runId, int events, CancellationToken cancellationToken, Func<int, Task>? between = null) =>
        Runner.RunAsync(new UserExecutionContext(userId, null, runId), async (scope, ct) =>
        {
            for (var i = 1; i <= events; i++)
            {
                await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, i, ct);
                if (between is not null)
                {
                    await between(i);
                }
            }
        }, cancellationToken: cancellationToken);

    /// <summary>Stops like a crashed process: the host's time is up at once, so nothing is cleaned up in Redis.</summary>
    public async Task CrashAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _app.StopAsync(new CancellationToken(canceled: true));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _app.StopAsync(stop.Token);
        }

        Dropped.Dispose();
        Received.Dispose();
        Sent.Dispose();
        await _app.DisposeAsync();
    }

    private TaskCompletionSource Connection(string userId, string connectionId) =>
        _connections.GetOrAdd(userId + "/" + connectionId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private async Task HandleAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var userId = http.Request.Query["user"].ToString();
        var connectionId = http.Request.Query["conn"].ToString();
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var registry = http.RequestServices.GetRequiredService<IConnectionRegistry>();
        var sink = registry.RegisterWebSocket(socket, userId, connectionId, http.RequestAborted);
        try
        {
            Connection(userId, connectionId).TrySetResult();
            var buffer = new byte[1024];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, http.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await sink.DisposeAsync();
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, http.RequestAborted);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client or the host went away.
        }
        finally
        {
            await sink.DisposeAsync();
        }
    }
}
