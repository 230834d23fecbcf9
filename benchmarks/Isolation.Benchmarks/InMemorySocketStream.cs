using System.Net.WebSockets;

namespace Isolation.Benchmarks;

/// <summary>
/// The server side of a WebSocket over an in-memory stream, for sink benchmarks without a network: every frame written
/// completes at once and is counted (a client that reads as fast as it can), or never completes (a client that stopped
/// reading, its buffers full). Nothing is ever read: the sink only sends.
/// </summary>
public sealed class InMemorySocketStream : Stream
{
    private readonly bool _stalled;
    private readonly SemaphoreSlim _written = new(0);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private InMemorySocketStream(bool stalled) => _stalled = stalled;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Creates a server WebSocket over a new stream, with no keep-alive frames.</summary>
    public static (WebSocket Socket, InMemorySocketStream Stream) Create(bool stalled)
    {
        var stream = new InMemorySocketStream(stalled);
        var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        return (socket, stream);
    }

    /// <summary>Waits until one more frame was written.</summary>
    public Task WaitForFrameAsync(CancellationToken cancellationToken) => _written.WaitAsync(cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_stalled)
        {
            // Pending until the stream is closed (the socket aborted), as a send to a client whose buffers are full.
            return new ValueTask(_closed.Task.WaitAsync(cancellationToken));
        }

        _written.Release();
        return default;
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
        if (disposing)
        {
            _closed.TrySetException(new IOException("The socket was closed."));
            _written.Dispose();
        }

        base.Dispose(disposing);
    }
}
