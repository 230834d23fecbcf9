using System.Net.WebSockets;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// The cost of one <see cref="WebSocketEventSink.TryWrite"/> while the sink's writer loop has a send in flight (issue 19:
/// at most 100 ns, lock-free). Each invocation queues <see cref="Batch"/> events (the default queue capacity, so no
/// queue-full policy applies) to one sink on an in-memory socket.
/// <c>Draining = false</c>: the writer loop is parked inside a send that does not complete until the iteration ends (a
/// client that reads slowly); <c>Draining = true</c>: the writer loop sends continuously on the other core (every send
/// completes at once), so producer and writer touch the queue at the same time. The queue is emptied before every
/// iteration (one invocation each; many iterations, as one is short). The baseline is a bare bounded
/// <see cref="Channel{T}"/> with the sink's former settings (its queue before issue 19) and a reader that behaves the same way.
/// </summary>
[InvocationCount(1)]
[WarmupCount(10)]
[IterationCount(100)]
public class SinkEnqueueBenchmark
{
    public const int Batch = 256;
    private const int Capacity = 256;

    private ServiceProvider _provider = null!;
    private WebSocketEventSink _sink = null!;
    private GatedStream _stream = null!;
    private WebSocket _socket = null!;
    private EventEnvelope _envelope = null!;
    private Channel<EventEnvelope> _channel = null!;
    private GatedStream _channelGate = null!;
    private Task _channelReader = Task.CompletedTask;
    private CancellationTokenSource _stop = new();

    [Params(false, true)]
    public bool Draining { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddIsolation()
            .Configure<EventDeliveryOptions>(o =>
            {
                o.QueueCapacity = Capacity;
                o.SendTimeout = TimeSpan.FromMinutes(10);
            })
            .BuildServiceProvider();
        _stream = new GatedStream();
        _socket = WebSocket.CreateFromStream(_stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        _sink = _provider.GetRequiredService<IConnectionRegistry>().RegisterWebSocket(_socket, "alice", "c-1");
        _envelope = new EventEnvelope("alice", "c-1", "run-1", 1, DateTimeOffset.UnixEpoch, AgentEventTypes.AgentThinking, payload: "thinking");

        _channel = Channel.CreateBounded<EventEnvelope>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _channelGate = new GatedStream();
        _channelReader = Task.Run(() => ReadChannelAsync(_stop.Token));
    }

    [IterationSetup]
    public void Prepare()
    {
        // Let both writers empty their queues, then (unless draining) park each inside a send again.
        _stream.Open();
        _channelGate.Open();
        SpinWait.SpinUntil(() => _sink.QueuedCount == 0 && _channel.Reader.Count == 0);
        if (!Draining)
        {
            _stream.Hold();
            _channelGate.Hold();
            _sink.TryWrite(_envelope);
            _channel.Writer.TryWrite(_envelope);
            SpinWait.SpinUntil(() => _stream.IsHolding && _channelGate.IsHolding && _sink.QueuedCount == 0 && _channel.Reader.Count == 0);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop.Cancel();
        _stream.Open();
        _channelGate.Open();
        _socket.Abort();
        _sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _channel.Writer.TryComplete();
        _channelReader.GetAwaiter().GetResult();
        _provider.Dispose();
        _stop.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public bool BoundedChannel()
    {
        var queued = true;
        var writer = _channel.Writer;
        for (var i = 0; i < Batch; i++)
        {
            queued &= writer.TryWrite(_envelope);
        }

        return queued;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public bool Sink()
    {
        var queued = true;
        for (var i = 0; i < Batch; i++)
        {
            queued &= _sink.TryWrite(_envelope);
        }

        return queued;
    }

    private async Task ReadChannelAsync(CancellationToken cancellationToken)
    {
        var reader = _channel.Reader;
        var json = new byte[64];
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out _))
                {
                    // The same "send" as the sink's: a write to a stream that is held or completes at once.
                    await _channelGate.WriteAsync(json, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>A stream whose writes complete at once, or wait while it is held; nothing is read.</summary>
    private sealed class GatedStream : Stream
    {
        private TaskCompletionSource? _gate;
        private int _holding;

        public bool IsHolding => Volatile.Read(ref _holding) != 0;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public void Hold() => Volatile.Write(ref _gate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        public void Open() => Interlocked.Exchange(ref _gate, null)?.TrySetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var gate = Volatile.Read(ref _gate);
            return gate is null ? default : WaitAsync(gate.Task);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            new(Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(static _ => 0, TaskScheduler.Default));

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private async ValueTask WaitAsync(Task gate)
        {
            Volatile.Write(ref _holding, 1);
            await gate.ConfigureAwait(false);
            Volatile.Write(ref _holding, 0);
        }
    }
}
