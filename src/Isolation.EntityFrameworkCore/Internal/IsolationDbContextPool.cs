using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Internal;

namespace Isolation.EntityFrameworkCore.Internal;

#pragma warning disable EF1001 // IDbContextPool<T> is EF Core's pool seam (pubternal); decorating it is the only way to keep a context from being leased again.

/// <summary>
/// Wraps EF Core's context pool: a context that <see cref="ContextGuard"/> found dirty when it was returned is disposed at the
/// next rent instead of being leased, and the pool rents the next one.
/// </summary>
internal sealed class IsolationDbContextPool<TContext> : IDbContextPool<TContext>, IDisposable, IAsyncDisposable
    where TContext : DbContext
{
    private readonly IDbContextPool<TContext> _inner;
    private long _discarded;

    public IsolationDbContextPool(IDbContextPool<TContext> inner, DbContextOptions<TContext> options)
    {
        _inner = inner;
        var isolation = options.FindExtension<IsolationOptionsExtension>()
            ?? throw new InvalidOperationException(
                $"AddPooledDbContextChecks<{typeof(TContext).Name}>() needs UseIsolation() on the options of {typeof(TContext).FullName}: the checks run inside the context. Add it after the provider, e.g. AddDbContextPool<{typeof(TContext).Name}>(o => o.UseSqlite(connectionString).UseIsolation()).");
        isolation.Options.DiscardsDirtyContexts = true;
    }

    /// <summary>Gets how many dirty contexts this pool disposed instead of leasing.</summary>
    public long Discarded => Interlocked.Read(ref _discarded);

    public IDbContextPoolable Rent()
    {
        while (true)
        {
            var context = _inner.Rent();
            if (!PooledContextDiscards.TryTake(context))
            {
                return context;
            }

            Interlocked.Increment(ref _discarded);
            context.ClearLease();
            context.Dispose();
        }
    }

    public void Return(IDbContextPoolable context) => _inner.Return(context);

    public ValueTask ReturnAsync(IDbContextPoolable context, CancellationToken cancellationToken = default)
        => _inner.ReturnAsync(context, cancellationToken);

    public void Dispose() => (_inner as IDisposable)?.Dispose();

    public ValueTask DisposeAsync() => _inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : default;
}
