using System.Collections.Concurrent;
using System.Reflection;
using System.Threading.Channels;

namespace Isolation.AspNetCore.SignalR;

/// <summary>
/// Keeps a streaming hub method's scope alive until its stream ends: the returned <see cref="IAsyncEnumerable{T}"/> or
/// <see cref="ChannelReader{T}"/> is wrapped so that the scope is disposed when the stream completes, fails or is
/// cancelled, and an <see cref="IAsyncEnumerable{T}"/> is read with the scope current.
/// </summary>
internal abstract class StreamScopes
{
    private static readonly ConcurrentDictionary<MethodInfo, StreamScopes?> Adapters = new();

    /// <summary>Wraps the stream, or returns <see langword="null"/> when the method returned something else.</summary>
    public abstract object? Wrap(object stream, ScopeLease lease);

    /// <summary>Returns the adapter for a hub method that returns a stream, or <see langword="null"/> for any other method.</summary>
    public static StreamScopes? For(MethodInfo method) => Adapters.GetOrAdd(method, static m => Create(m.ReturnType));

    private static StreamScopes? Create(Type returnType)
    {
        if (returnType.IsGenericType)
        {
            var definition = returnType.GetGenericTypeDefinition();
            if (definition == typeof(Task<>) || definition == typeof(ValueTask<>))
            {
                return Create(returnType.GetGenericArguments()[0]);
            }

            if (definition == typeof(IAsyncEnumerable<>))
            {
                return (StreamScopes)Activator.CreateInstance(typeof(AsyncEnumerableScopes<>).MakeGenericType(returnType.GetGenericArguments()))!;
            }

            if (definition == typeof(ChannelReader<>))
            {
                return (StreamScopes)Activator.CreateInstance(typeof(ChannelReaderScopes<>).MakeGenericType(returnType.GetGenericArguments()))!;
            }
        }

        return null;
    }

    private sealed class AsyncEnumerableScopes<T> : StreamScopes
    {
        public override object? Wrap(object stream, ScopeLease lease) => stream is IAsyncEnumerable<T> items ? new ScopedAsyncEnumerable<T>(items, lease) : null;
    }

    private sealed class ChannelReaderScopes<T> : StreamScopes
    {
        public override object? Wrap(object stream, ScopeLease lease) => stream is ChannelReader<T> reader ? new ScopedChannelReader<T>(reader, lease) : null;
    }

    private sealed class ScopedAsyncEnumerable<T>(IAsyncEnumerable<T> inner, ScopeLease lease) : IAsyncEnumerable<T>
    {
        public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
            => new Enumerator(inner, lease, cancellationToken);

        private sealed class Enumerator : IAsyncEnumerator<T>
        {
            private readonly ScopeLease _lease;
            private readonly IAsyncEnumerator<T> _inner;

            public Enumerator(IAsyncEnumerable<T> source, ScopeLease lease, CancellationToken cancellationToken)
            {
                _lease = lease;
                IAsyncEnumerator<T>? inner = null;
                Run(() => inner = source.GetAsyncEnumerator(cancellationToken));
                _inner = inner!;
            }

            public T Current => _inner.Current;

            public ValueTask<bool> MoveNextAsync()
            {
                // The iterator's code runs in the invocation's execution context, where the scope is current.
                ValueTask<bool> next = default;
                Run(() => next = _inner.MoveNextAsync());
                return next;
            }

            public async ValueTask DisposeAsync()
            {
                try
                {
                    ValueTask disposing = default;
                    Run(() => disposing = _inner.DisposeAsync());
                    await disposing.ConfigureAwait(false);
                }
                finally
                {
                    await _lease.DisposeAsync().ConfigureAwait(false);
                }
            }

            private void Run(Action action)
            {
                if (_lease.ExecutionContext is { } context)
                {
                    ExecutionContext.Run(context, static a => ((Action)a!)(), action);
                }
                else
                {
                    action();
                }
            }
        }
    }

    private sealed class ScopedChannelReader<T>(ChannelReader<T> inner, ScopeLease lease) : ChannelReader<T>
    {
        public override Task Completion => inner.Completion;

        public override bool CanCount => inner.CanCount;

        public override bool CanPeek => inner.CanPeek;

        public override int Count => inner.Count;

        public override bool TryRead(out T item) => inner.TryRead(out item!);

        public override bool TryPeek(out T item) => inner.TryPeek(out item!);

        public override async ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            bool more;
            try
            {
                more = await inner.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Cancelled by the client or the connection, or the producer completed the channel with an error.
                await lease.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            if (!more)
            {
                await lease.DisposeAsync().ConfigureAwait(false);
            }

            return more;
        }
    }
}
