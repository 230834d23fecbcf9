using System.Collections.Generic;

namespace Isolation.Analyzers.Classification;

/// <summary>
/// A list that concurrent operation callbacks append to, read by a symbol end or compilation end action once they are
/// all done. A lock per list rather than a <c>ConcurrentBag</c>: every bag owns a <c>ThreadLocal</c>, which has a
/// finalizer and a slot on every thread that touched it, and the analyzers keep one per candidate type and member, so a
/// short uncontended lock is the cheaper of the two.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class LockedList<T>
{
    private readonly List<T> _items = new();

    public void Add(T item)
    {
        lock (_items)
        {
            _items.Add(item);
        }
    }

    /// <summary>Enumerates the items; only once no callback adds any more (in a symbol end or compilation end action).</summary>
    public List<T>.Enumerator GetEnumerator() => _items.GetEnumerator();
}

/// <summary>A set that concurrent operation callbacks of one symbol add to (see <see cref="LockedList{T}"/>).</summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class LockedSet<T>
{
    private readonly HashSet<T> _items;

    public LockedSet(IEqualityComparer<T> comparer) => _items = new HashSet<T>(comparer);

    public void Add(T item)
    {
        lock (_items)
        {
            _items.Add(item);
        }
    }

    /// <summary>Gets whether the set is empty; only once no callback adds any more.</summary>
    public bool IsEmpty => _items.Count == 0;

    /// <summary>Gets whether the set holds <paramref name="item"/>; only once no callback adds any more.</summary>
    public bool Contains(T item) => _items.Contains(item);
}
