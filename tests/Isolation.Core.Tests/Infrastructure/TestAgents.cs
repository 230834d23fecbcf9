using Microsoft.Extensions.ObjectPool;

namespace Isolation.Tests.Infrastructure;

/// <summary>A scoped dependency, so tests can see which DI scope an agent was activated in.</summary>
public sealed class ScopedDependency
{
    public Guid Id { get; } = Guid.NewGuid();
}

/// <summary>A plain agent with per-request state and a scoped dependency.</summary>
public sealed class NotesAgent : IsolatedAgent
{
    private readonly List<string> _notes = new();

    public NotesAgent(ScopedDependency dependency, IsolationScope scope)
    {
        Dependency = dependency;
        CreatedIn = scope;
    }

    public ScopedDependency Dependency { get; }

    public IsolationScope CreatedIn { get; }

    public IReadOnlyList<string> Notes
    {
        get
        {
            EnsureOwned();
            return _notes;
        }
    }

    public void Add(string note)
    {
        EnsureOwned();
        _notes.Add(note);
    }
}

/// <summary>A pooled agent: state cleared on reset; can be told to refuse the reset.</summary>
public sealed class PooledNotesAgent : IsolatedAgent, IResettable
{
    private readonly List<string> _notes = new();

    public bool RefuseReset { get; set; }

    public int Resets { get; private set; }

    public IReadOnlyList<string> Notes
    {
        get
        {
            EnsureOwned();
            return _notes;
        }
    }

    public void Add(string note)
    {
        EnsureOwned();
        _notes.Add(note);
    }

    public bool TryReset()
    {
        Resets++;
        _notes.Clear();
        return !RefuseReset;
    }
}

/// <summary>Records disposal order into a shared journal.</summary>
public abstract class JournalAgent : IAgent
{
    private int _disposals;

    protected JournalAgent(List<string> journal) => Journal = journal;

    public List<string> Journal { get; }

    public int Disposals => _disposals;

    protected void Record(string what)
    {
        Interlocked.Increment(ref _disposals);
        lock (Journal)
        {
            Journal.Add(what);
        }
    }
}

public sealed class FirstAgent(List<string> journal) : JournalAgent(journal), IDisposable
{
    public void Dispose() => Record("first");
}

public sealed class SecondAgent(List<string> journal) : JournalAgent(journal), IAsyncDisposable
{
    public ValueTask DisposeAsync()
    {
        Record("second");
        return ValueTask.CompletedTask;
    }
}

public sealed class ThrowingAgent(List<string> journal) : JournalAgent(journal), IDisposable
{
    public void Dispose()
    {
        Record("throwing");
        throw new InvalidOperationException("dispose failed on purpose");
    }
}

public sealed class AsyncOnlyAgent(List<string> journal) : JournalAgent(journal), IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Task.Yield();
        Record("async-only");
    }
}

/// <summary>A plain agent that does not derive from IsolatedAgent.</summary>
public sealed class PlainAgent : IAgent
{
    public int Counter { get; set; }
}

public sealed class DisposablePooledAgent(List<string> journal) : JournalAgent(journal), IResettable, IDisposable
{
    public bool TryReset() => true;

    public void Dispose() => Record("pooled");
}

/// <summary>An agent that records its disposal.</summary>
public sealed class DisposableAgent : IsolatedAgent, IDisposable
{
    public bool Disposed { get; private set; }

    public void Dispose() => Disposed = true;
}
