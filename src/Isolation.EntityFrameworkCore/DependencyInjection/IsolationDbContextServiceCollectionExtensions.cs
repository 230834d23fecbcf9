using Isolation.EntityFrameworkCore.Internal;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Internal;

namespace Microsoft.Extensions.DependencyInjection;

#pragma warning disable EF1001 // IDbContextPool<T> is EF Core's pool seam (pubternal).

/// <summary>Registration of the pristine checks for pooled contexts.</summary>
public static class IsolationDbContextServiceCollectionExtensions
{
    /// <summary>
    /// Makes the context pool of <typeparamref name="TContext"/> discard the contexts that <c>UseIsolation()</c> found dirty
    /// when they were returned (unsaved changes, an open transaction, a changed QueryTrackingBehavior, AutoDetectChanges or
    /// command timeout, a <see cref="Isolation.EntityFrameworkCore.TenantStateAttribute"/> member not reset, a failed
    /// pristine check): such a context is disposed instead of being leased to the next request. Call it after
    /// <c>AddDbContextPool</c> or <c>AddPooledDbContextFactory</c>; calling it twice is safe.
    /// </summary>
    /// <typeparam name="TContext">The context type of the pool (the implementation type when it differs from the service type).</typeparam>
    /// <param name="services">The services.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="InvalidOperationException">No context pool of <typeparamref name="TContext"/> is registered yet.</exception>
    /// <example>
    /// <code>
    /// services.AddDbContextPool&lt;AppDb&gt;(o => o.UseSqlite(connectionString).UseIsolation())
    ///         .AddPooledDbContextChecks&lt;AppDb&gt;();
    /// </code>
    /// </example>
    public static IServiceCollection AddPooledDbContextChecks<TContext>(this IServiceCollection services)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);
        ServiceDescriptor? pool = null;
        var index = -1;
        for (var i = 0; i < services.Count; i++)
        {
            if (services[i].ServiceType == typeof(IDbContextPool<TContext>))
            {
                pool = services[i];
                index = i;
            }
        }

        if (pool is null)
        {
            throw new InvalidOperationException(
                $"AddPooledDbContextChecks<{typeof(TContext).Name}>() found no context pool of {typeof(TContext).FullName}. Call AddDbContextPool<{typeof(TContext).Name}>(…) or AddPooledDbContextFactory<{typeof(TContext).Name}>(…) first, with UseIsolation() on its options.");
        }

        if (pool.ImplementationFactory?.Target is PoolFactory<TContext>)
        {
            return services;
        }

        services[index] = ServiceDescriptor.Singleton<IDbContextPool<TContext>>(new PoolFactory<TContext>(pool).Create);
        return services;
    }

    private sealed class PoolFactory<TContext>(ServiceDescriptor inner)
        where TContext : DbContext
    {
        public IsolationDbContextPool<TContext> Create(IServiceProvider services)
        {
            var pool = inner.ImplementationInstance
                ?? inner.ImplementationFactory?.Invoke(services)
                ?? ActivatorUtilities.CreateInstance(services, inner.ImplementationType!);
            return new IsolationDbContextPool<TContext>((IDbContextPool<TContext>)pool, services.GetRequiredService<DbContextOptions<TContext>>());
        }
    }
}
