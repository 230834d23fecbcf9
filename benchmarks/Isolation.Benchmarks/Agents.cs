using Microsoft.Extensions.ObjectPool;

namespace Isolation.Benchmarks;

public sealed class Dep1;

public sealed class Dep2;

public sealed class Dep3;

public sealed class Dep4;

public sealed class Dep5;

public sealed class Dep6;

public sealed class Dep7;

public sealed class Dep8;

public sealed class Dep9;

public sealed class Dep10;

public sealed class Dep11;

public sealed class Dep12;

public sealed class Agent0 : IAgent;

public sealed class Agent3(Dep1 a, Dep2 b, Dep3 c) : IAgent
{
    public object[] Deps { get; } = [a, b, c];
}

public sealed class Agent6(Dep1 a, Dep2 b, Dep3 c, Dep4 d, Dep5 e, Dep6 f) : IAgent
{
    public object[] Deps { get; } = [a, b, c, d, e, f];
}

#pragma warning disable CA1502, SA1117 // The point of this agent is its long constructor.
public sealed class Agent12(Dep1 a, Dep2 b, Dep3 c, Dep4 d, Dep5 e, Dep6 f, Dep7 g, Dep8 h, Dep9 i, Dep10 j, Dep11 k, Dep12 l) : IAgent
#pragma warning restore CA1502, SA1117
{
    public object[] Deps { get; } = [a, b, c, d, e, f, g, h, i, j, k, l];
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

public sealed class Agent1(Dep1 a) : IAgent
{
    private readonly List<string> _notes = new(8);

    public Dep1 A { get; } = a;

    public void Add(string note) => _notes.Add(note);
}
