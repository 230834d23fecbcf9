using System.Collections.Concurrent;

namespace ChatServer.Realtime;

/// <summary>
/// The runs in flight, keyed by (user, run id): a cancel request finds only its own user's runs, so knowing another
/// user's run id is not enough to touch it. Also counts the work still executing (abandoned work included), so
/// <c>simulate</c> can wait for the server to be idle before it checks for leaks.
/// </summary>
public sealed class ActiveRuns
{
    private readonly ConcurrentDictionary<(string UserId, string RunId), CancellationTokenSource> _runs = new();
    private readonly object _idleLock = new();
    private TaskCompletionSource? _idle;
    private int _executing;

    public int Count => _runs.Count;

    /// <summary>Gets how many run bodies are executing, including work the runner abandoned at its deadline.</summary>
    public int Executing => Volatile.Read(ref _executing);

    public bool TryAdd(string userId, string runId, CancellationTokenSource cancellation) => _runs.TryAdd((userId, runId), cancellation);

    public void Remove(string userId, string runId) => _runs.TryRemove((userId, runId), out _);

    /// <summary>Cancels <paramref name="userId"/>'s run <paramref name="runId"/>; false when that user has no such run.</summary>
    public bool TryCancel(string userId, string runId)
    {
        if (!_runs.TryGetValue((userId, runId), out var cancellation))
        {
            return false;
        }

        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run ended between the lookup and the cancel.
        }

        return true;
    }

    public void WorkStarted() => Interlocked.Increment(ref _executing);

    public void WorkEnded()
    {
        if (Interlocked.Decrement(ref _executing) == 0)
        {
            lock (_idleLock)
            {
                _idle?.TrySetResult();
                _idle = null;
            }
        }
    }

    /// <summary>Completes when no run body is executing.</summary>
    public Task WaitForIdleAsync(CancellationToken cancellationToken)
    {
        lock (_idleLock)
        {
            if (Volatile.Read(ref _executing) == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }
}
