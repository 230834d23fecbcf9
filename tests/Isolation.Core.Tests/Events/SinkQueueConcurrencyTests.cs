using System.Net.WebSockets;
using System.Text.Json;
using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Events;

/// <summary>
/// Issue 19: the lock-free queue of <see cref="WebSocketEventSink"/> under many producers and a slow writer, for every
/// <see cref="EventQueueFullMode"/>: every event is sent or dropped and counted (the counts add up exactly), only what the
/// policy drops is missing, and each run's events arrive in sequence order. The socket writes into memory; its first send
/// is held until the producers have written a first batch, so the queue is certain to overflow.
/// </summary>
public sealed class SinkQueueConcurrencyTests
{
    private const int Producers = 4;
    private const int EventsPerProducer = 2_000;
    private const int Capacity = 8;

    [Theory]
    [InlineData(EventQueueFullMode.DropOldest)]
    [InlineData(EventQueueFullMode.DropNewest)]
    [InlineData(EventQueueFullMode.CloseConnection)]
    public async Task TryWrite_ManyProducersSlowWriter_EveryEventSentOrCountedAndRunsInOrder(EventQueueFullMode mode)
    {
        using var cts = EventTestSupport.Timeout(60);
        await using var host = CreateHost(mode);
        using var dropped = EventTestSupport.DroppedCollector(host.Provider);
        var registry = host.Provider.GetRequiredService<IConnectionRegistry>();
        var stream = new RecordingStream(holdFirstWrite: true);
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var sink = registry.RegisterWebSocket(socket, "alice", "c-1");

        var accepted = await ProduceAsync(sink, firstBatchWritten: stream.Release, cts.Token);

        var total = Producers * EventsPerProducer;
        if (mode == EventQueueFullMode.CloseConnection)
        {
            await sink.Completion.WaitAsync(cts.Token);
        }
        else
        {
            await WaitUntilAsync(() => sink.SentCount + sink.DroppedCount == total && sink.QueuedCount == 0, cts.Token);
        }

        var frames = stream.Frames();
        Assert.Equal(total, sink.SentCount + sink.DroppedCount);
        Assert.Equal(sink.SentCount, frames.Count);
        Assert.True(dropped.Dropped("queue_full") > 0, "the queue never overflowed");
        Assert.Equal(
            sink.DroppedCount,
            dropped.Dropped("queue_full") + dropped.Dropped("connection_closed") + dropped.Dropped("send_failed"));
        Assert.All(frames, f => Assert.Equal("alice", f.UserId));
        foreach (var run in frames.GroupBy(f => f.RunId))
        {
            var sequences = run.Select(f => f.Sequence).ToList();
            Assert.Equal(sequences.Order(), sequences); // in order, and no event twice
            Assert.Equal(sequences.Count, sequences.Distinct().Count());
        }

        switch (mode)
        {
            case EventQueueFullMode.DropNewest:
                // Only the refused events are missing: everything TryWrite accepted was sent.
                Assert.True(sink.SentCount > 0, "the writer sent nothing");
                Assert.Equal(dropped.Dropped("queue_full"), total - accepted.Count);
                Assert.Equal(accepted.Order(), frames.Select(f => (f.RunId, f.Sequence)).Order());
                Assert.Equal(sink.DroppedCount, dropped.Dropped("queue_full"));
                break;
            case EventQueueFullMode.DropOldest:
                // Every event was accepted; the ones missing are exactly the ones dropped to make room.
                Assert.True(sink.SentCount > 0, "the writer sent nothing");
                Assert.Equal(total, accepted.Count);
                Assert.Equal(sink.DroppedCount, dropped.Dropped("queue_full"));
                Assert.Equal(total - frames.Count, dropped.Dropped("queue_full"));
                break;
            default:
                // The connection was closed at the first overflow, while its first send was held (or not yet started):
                // nothing was sent, it left the registry, and later events found it closed.
                Assert.Equal(0, sink.SentCount);
                Assert.Equal(0, registry.GetConnectionCount("alice"));
                Assert.True(dropped.Dropped("connection_closed") > 0);
                break;
        }
    }

    [Theory]
    [InlineData(EventQueueFullMode.DropOldest)]
    [InlineData(EventQueueFullMode.DropNewest)]
    [InlineData(EventQueueFullMode.CloseConnection)]
    public async Task DisposeAsync_WhileManyProducersWrite_EveryEventSentOrCountedOnce(EventQueueFullMode mode)
    {
        using var cts = EventTestSupport.Timeout(60);
        await using var host = CreateHost(mode, capacity: 100_000);
        using var dropped = EventTestSupport.DroppedCollector(host.Provider);
        var registry = host.Provider.GetRequiredService<IConnectionRegistry>();
        var stream = new RecordingStream(holdFirstWrite: false);
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var sink = registry.RegisterWebSocket(socket, "alice", "c-1");

        // The producers are still writing when the sink stops: some events are queued after its last drain began.
        await ProduceAsync(sink, firstBatchWritten: () => _ = sink.DisposeAsync().AsTask(), cts.Token);
        await sink.Completion.WaitAsync(cts.Token);

        Assert.Equal(Producers * EventsPerProducer, sink.SentCount + sink.DroppedCount);
        Assert.Equal(sink.SentCount, stream.Frames().Count);
        Assert.Equal(sink.DroppedCount, dropped.Dropped("connection_closed") + dropped.Dropped("send_failed") + dropped.Dropped("queue_full"));
        Assert.Equal(0, sink.QueuedCount);
        Assert.Equal(0, registry.GetConnectionCount("alice"));
    }

    private static TestHost CreateHost(EventQueueFullMode mode, int capacity = Capacity) => TestHost.Create(services => services.Configure<EventDeliveryOptions>(o =>
    {
        o.QueueCapacity = capacity;
        o.QueueFullMode = mode;
        o.SendTimeout = TimeSpan.FromMinutes(5); // on the fake clock: never fires
    }));

    /// <summary>
    /// Runs the producers, each its own run with sequences 1, 2, 3 …; calls <paramref name="firstBatchWritten"/> once every
    /// producer has written its first quarter. Returns the (run, sequence) of every event TryWrite accepted.
    /// </summary>
    private static async Task<List<(string RunId, long Sequence)>> ProduceAsync(WebSocketEventSink sink, Action firstBatchWritten, CancellationToken cancellationToken)
    {
        var accepted = new List<(string, long)>();
        using var firstBatch = new CountdownEvent(Producers);
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(
            () =>
            {
                var runId = "run-" + p;
                var mine = new List<(string, long)>();
                for (var sequence = 1; sequence <= EventsPerProducer; sequence++)
                {
                    var envelope = new EventEnvelope("alice", "c-1", runId, sequence, DateTimeOffset.UnixEpoch, AgentEventTypes.AgentThinking, "step");
                    if (sink.TryWrite(envelope))
                    {
                        mine.Add((runId, sequence));
                    }

                    if (sequence == EventsPerProducer / 4)
                    {
                        firstBatch.Signal();
                    }
                    else if (sequence % 64 == 0)
                    {
                        Thread.Yield(); // let the writer loop in between
                    }
                }

                lock (accepted)
                {
                    accepted.AddRange(mine);
                }
            },
            cancellationToken)).ToList();

        firstBatch.Wait(cancellationToken);
        firstBatchWritten();
        await Task.WhenAll(producers);
        return accepted;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(5, cancellationToken);
        }
    }

    /// <summary>The client side: records every byte the server socket writes (yielding on each write, a slow client), and parses the frames.</summary>
    private sealed class RecordingStream(bool holdFirstWrite) : Stream
    {
        private readonly MemoryStream _written = new();
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _writes;
        private volatile bool _disposed;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public void Release() => _release.TrySetResult();

        public List<(string UserId, string RunId, long Sequence)> Frames()
        {
            byte[] bytes;
            lock (_written)
            {
                bytes = _written.ToArray();
            }

            var frames = new List<(string, string, long)>();
            var offset = 0;
            while (offset < bytes.Length)
            {
                var opcode = bytes[offset] & 0x0F;
                long length = bytes[offset + 1] & 0x7F;
                offset += 2;
                if (length == 126)
                {
                    length = (bytes[offset] << 8) | bytes[offset + 1];
                    offset += 2;
                }
                else if (length == 127)
                {
                    length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(offset, 8));
                    offset += 8;
                }

                if (opcode == 1)
                {
                    using var json = JsonDocument.Parse(bytes.AsMemory(offset, (int)length));
                    var root = json.RootElement;
                    frames.Add((root.GetProperty("userId").GetString()!, root.GetProperty("runId").GetString()!, root.GetProperty("sequence").GetInt64()));
                }

                offset += (int)length;
            }

            return frames;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (holdFirstWrite && Interlocked.Increment(ref _writes) == 1)
            {
                await _release.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Task.Yield();
            }

            // An aborted socket disposes its stream: the send fails (send_failed) and nothing reaches the client.
            ObjectDisposedException.ThrowIf(_disposed, this);
            lock (_written)
            {
                _written.Write(buffer.Span);
            }
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

        protected override void Dispose(bool disposing)
        {
            _disposed = true;
            base.Dispose(disposing);
        }
    }
}
