using Microsoft.Extensions.ObjectPool;

namespace Isolation.Benchmarks;

public sealed class Dep1;

public sealed class Dep2;

public sealed class Dep3;

public sealed class Dep4;

public sealed class Dep5;

public sealed class Dep6;

public sealed class Agent0 : IAgent;

public sealed class Agent3(Dep1 a, Dep2 b, Dep3 c) : IAgent
{
    public object[] Deps { get; } = [a, b, c];
}

public sealed class Agent6(Dep1 a, Dep2 b, Dep3 c, Dep4 d, Dep5 e, Dep6 f) : IAgent
{
    public object[] Deps { get; } = [a, b, c, d, e, f];
}

/// <summary>A pooled agent with per-request state cleared on reset.</summary>
public class PooledAgent : IAgent, IResettable
{
    private readonly List<string> _notes = new(8);

    public void Add(string note) => _notes.Add(note);

    public bool TryReset()
    {
        _notes.Clear();
        return true;
    }
}

/// <summary>A pooled agent with three (root-resolved) constructor dependencies.</summary>
public sealed class PooledAgent3(Dep1 a, Dep2 b, Dep3 c) : PooledAgent
{
    public object[] Deps { get; } = [a, b, c];
}

/// <summary>A pooled agent with six (root-resolved) constructor dependencies.</summary>
public sealed class PooledAgent6(Dep1 a, Dep2 b, Dep3 c, Dep4 d, Dep5 e, Dep6 f) : PooledAgent
{
    public object[] Deps { get; } = [a, b, c, d, e, f];
}

/// <summary>The same agent shape, created fresh per scope.</summary>
public sealed class FreshAgent : IAgent
{
    private readonly List<string> _notes = new(8);

    public void Add(string note) => _notes.Add(note);
}
