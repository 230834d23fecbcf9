using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// How much a client that stopped reading slows everybody else's events. Each operation emits one event to each of four
/// users, each with a <see cref="WebSocketEventSink"/> on its own in-memory socket, and waits until every writer loop has
/// sent its event. With <c>Stalled</c>, a fifth user's socket never completes a send: its queue (16 events, drop oldest)
/// is full and dropping, and each operation emits to it too. Goal (moved here from the unit test, where a timed ratio
/// flaked): the others' round at most 10x slower with the stalled client than without.
/// </summary>
public class StalledClientBenchmark
{
    private const int Others = 4;
    private static readonly object Payload = new();

    private readonly List<IsolationScope> _scopes = [];
    private readonly List<InMemorySocketStream> _streams = [];
    private readonly List<WebSocketEventSink> _sinks = [];
    private ServiceProvider _provider = null!;
    private IsolationScope? _stalledScope;
    private WebSocketEventSink? _stalledSink;
    private System.Net.WebSockets.WebSocket? _stalledSocket;

    [Params(false, true)]
    public bool Stalled { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddIsolation()
            .Configure<EventDeliveryOptions>(o =>
            {
                o.QueueCapacity = 16;
                o.QueueFullMode = EventQueueFullMode.DropOldest;
                o.SendTimeout = TimeSpan.FromMinutes(10);
            })
            .BuildServiceProvider();
        var registry = _provider.GetRequiredService<IConnectionRegistry>();
        var scopes = _provider.GetRequiredService<IIsolationScopeFactory>();
        for (var i = 0; i < Others; i++)
        {
            var (socket, stream) = InMemorySocketStream.Create(stalled: false);
            _streams.Add(stream);
            _sinks.Add(registry.RegisterWebSocket(socket, "other-" + i, "c-" + i));
            _scopes.Add(scopes.CreateScope(new UserExecutionContext("other-" + i, "c-" + i)));
        }

        if (Stalled)
        {
            var (socket, _) = InMemorySocketStream.Create(stalled: true);
            _stalledSocket = socket;
            _stalledSink = registry.RegisterWebSocket(socket, "stalled", "s-1");
            _stalledScope = scopes.CreateScope(new UserExecutionContext("stalled", "s-1"));
            while (_stalledSink.DroppedCount == 0)
            {
                _stalledScope.Events.EmitAsync(AgentEventTypes.AgentThinking, Payload).AsTask().GetAwaiter().GetResult();
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var scope in _scopes)
        {
            scope.Dispose();
        }

        _stalledScope?.Dispose();
        foreach (var sink in _sinks)
        {
            sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        // Aborting fails the send that never completes, so the sink's disposal does not wait for its send timeout.
        _stalledSocket?.Abort();
        _stalledSink?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _provider.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task OthersRound()
    {
        if (_stalledScope is not null)
        {
            await _stalledScope.Events.EmitAsync(AgentEventTypes.AgentThinking, Payload);
        }

        for (var i = 0; i < Others; i++)
        {
            await _scopes[i].Events.EmitAsync(AgentEventTypes.AgentThinking, Payload);
        }

        for (var i = 0; i < Others; i++)
        {
            await _streams[i].WaitForFrameAsync(CancellationToken.None);
        }
    }
}
