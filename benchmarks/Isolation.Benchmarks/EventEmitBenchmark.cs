using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// One agent event into one connection's queue. The baseline is what a backend without isolation writes: a message with
/// the same fields, into a bounded channel configured like the sink's queue. <c>Emit</c> goes the whole isolated way:
/// the scope's emitter stamps and numbers an envelope under the run's lock, the registry finds the user's connections,
/// and the sink queues it into the same kind of channel. Both drain their channel in the same call.
/// </summary>
public class EventEmitBenchmark
{
    private const string UserId = "alice";
    private const string ConnectionId = "c-1";
    private static readonly object Payload = new();

    private readonly Channel<ChatMessage> _channel = BenchmarkChannels.Create<ChatMessage>();
    private ServiceProvider _provider = null!;
    private IsolationScope _scope = null!;
    private IAgentEventEmitter _events = null!;
    private ChannelSink _sink = null!;
    private IDisposable _registration = null!;
    private TimeProvider _time = null!;
    private string _runId = null!;
    private long _sequence;

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        _time = _provider.GetRequiredService<TimeProvider>();
        _sink = new ChannelSink(UserId, ConnectionId);
        _registration = _provider.GetRequiredService<IConnectionRegistry>().Register(_sink);
        var context = new UserExecutionContext(UserId, ConnectionId);
        _runId = context.RunId;
        _scope = _provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(context);
        _events = _scope.Events;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scope.Dispose();
        _registration.Dispose();
        _provider.Dispose();
    }

    [Benchmark(Baseline = true)]
    public bool ChannelWrite()
    {
        var message = new ChatMessage(UserId, ConnectionId, _runId, ++_sequence, _time.GetUtcNow(), AgentEventTypes.AgentThinking, Payload);
        _channel.Writer.TryWrite(message);
        return _channel.Reader.TryRead(out _);
    }

    [Benchmark]
    public bool Emit()
    {
        var pending = _events.EmitAsync(AgentEventTypes.AgentThinking, Payload);
        if (!pending.IsCompletedSuccessfully)
        {
            // Never taken: emitting completes synchronously (queueing never waits).
            pending.AsTask().GetAwaiter().GetResult();
        }

        return _sink.Queue.Reader.TryRead(out _);
    }
}
