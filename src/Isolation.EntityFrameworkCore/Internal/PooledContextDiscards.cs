using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;

namespace Isolation.EntityFrameworkCore.Internal;

/// <summary>
/// Pooled contexts found dirty when they were returned. EF Core has already put them back in its pool by then; the pool
/// decorator of <c>AddPooledDbContextChecks</c> takes them out at the next rent and disposes them instead of leasing them.
/// </summary>
internal static class PooledContextDiscards
{
    private static readonly ConditionalWeakTable<DbContext, object> Marked = new();
    private static int s_pending;

    public static void Mark(DbContext context)
    {
        if (Marked.TryAdd(context, Marked))
        {
            Interlocked.Increment(ref s_pending);
        }
    }

    /// <summary>Whether <paramref name="context"/> was marked; unmarks it. One volatile read when nothing is marked.</summary>
    public static bool TryTake(object context)
    {
        if (Volatile.Read(ref s_pending) == 0 || context is not DbContext db || !Marked.Remove(db))
        {
            return false;
        }

        Interlocked.Decrement(ref s_pending);
        return true;
    }
}
