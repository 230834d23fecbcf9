using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Isolation.Benchmarks;

/// <summary>
/// One agent event to one real SignalR connection (a real client over loopback WebSockets), measured until the client
/// received it: a plain <c>Clients.Client(id).SendAsync</c> (the baseline) against delivery through the connection
/// registry and the connection's <c>SignalREventSink</c>, with 999 connections of other users registered beside it.
/// </summary>
public class SignalRDeliveryBenchmark
{
    private const int OtherConnections = 999;

    private WebApplication _app = null!;
    private HubConnection _client = null!;
    private IConnectionRegistry _registry = null!;
    private IHubContext<EventsHub> _hub = null!;
    private readonly List<IDisposable> _others = [];
    private TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private EventEnvelope _envelope = null!;
    private string _connectionId = null!;
    private long _sequence;

    [GlobalSetup]
    public void Setup()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IUserIdProvider, FixedUserIdProvider>();
        builder.Services.AddIsolation();
        builder.Services.AddSignalR().AddIsolation();
        _app = builder.Build();
        _app.MapHub<EventsHub>("/events");
        _app.StartAsync().GetAwaiter().GetResult();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _client = new HubConnectionBuilder()
            .WithUrl(new Uri(new Uri(address), "/events"), o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
            })
            .Build();
        _client.On<EventEnvelope>("isolation", _ => _received.TrySetResult());
        _client.StartAsync().GetAwaiter().GetResult();
        _connectionId = _client.InvokeAsync<string>(nameof(EventsHub.ConnectionId)).GetAwaiter().GetResult(); // skipped negotiation: ask the server
        _registry = _app.Services.GetRequiredService<IConnectionRegistry>();
        _hub = _app.Services.GetRequiredService<IHubContext<EventsHub>>();
        for (var i = 0; i < OtherConnections; i++)
        {
            _others.Add(_registry.Register(new IdleSink("other-" + i, "c-" + i)));
        }

        if (_registry.ConnectionCount != OtherConnections + 1)
        {
            throw new InvalidOperationException($"Expected {OtherConnections + 1} registered connections, found {_registry.ConnectionCount}.");
        }

        _envelope = new EventEnvelope("bench-user", _connectionId, "run-1", 1, DateTimeOffset.UtcNow, AgentEventTypes.AgentThinking, "step");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var other in _others)
        {
            other.Dispose();
        }

        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _app.StopAsync().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public async Task PlainClientsClient()
    {
        _received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _hub.Clients.Client(_connectionId).SendAsync("isolation", _envelope);
        await _received.Task;
    }

    [Benchmark]
    public async Task RegistryToSignalRSink()
    {
        _received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var envelope = new EventEnvelope("bench-user", _connectionId, "run-1", ++_sequence, _envelope.Timestamp, AgentEventTypes.AgentThinking, "step");
        if (_registry.Publish(envelope).Delivered != 1)
        {
            throw new InvalidOperationException("The event did not reach the user's one connection.");
        }

        await _received.Task;
    }

    public sealed class EventsHub : Hub
    {
        public string ConnectionId() => Context.ConnectionId;
    }

    private sealed class FixedUserIdProvider : IUserIdProvider
    {
        public string? GetUserId(HubConnectionContext connection) => "bench-user";
    }

    /// <summary>A connection of another user; it never receives this benchmark's events.</summary>
    private sealed class IdleSink(string userId, string connectionId) : IEventSink
    {
        public string UserId { get; } = userId;

        public string ConnectionId { get; } = connectionId;

        public bool TryWrite(EventEnvelope envelope) => throw new InvalidOperationException("An event reached another user's connection.");
    }
}
