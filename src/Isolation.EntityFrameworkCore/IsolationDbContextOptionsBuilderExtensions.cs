using Isolation.EntityFrameworkCore;
using Isolation.EntityFrameworkCore.Internal;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Adds the isolation checks to a <see cref="DbContext"/>'s options.</summary>
public static class IsolationDbContextOptionsBuilderExtensions
{
    /// <summary>
    /// Guards the context: it is bound to the <see cref="Isolation.IsolationScope"/> that first uses it (for a pooled context,
    /// per lease), and every command, <c>SaveChanges</c>, connection open and transaction operation is checked. Use from another
    /// user's scope is <c>cross_scope_access</c>, use after the bound scope ended is <c>use_after_dispose</c>, two operations
    /// at once from two flows (transactions included) is <c>concurrent_use</c>: reported in Observe, thrown in Enforce, counted.
    /// A context used outside any scope is reported once per lease. A pooled context that comes back dirty is reported as
    /// <c>session_leak</c>.
    /// </summary>
    /// <param name="optionsBuilder">The builder, after the provider (<c>UseSqlite</c>, <c>UseNpgsql</c>…).</param>
    /// <returns>The builder, for chaining.</returns>
    /// <example>
    /// <code>
    /// services.AddDbContextPool&lt;AppDb&gt;(o => o.UseSqlite(connectionString).UseIsolation());
    /// </code>
    /// </example>
    public static DbContextOptionsBuilder UseIsolation(this DbContextOptionsBuilder optionsBuilder)
        => UseIsolation(optionsBuilder, static _ => { });

    /// <summary>Guards the context as <see cref="UseIsolation(DbContextOptionsBuilder)"/> does, with options.</summary>
    /// <param name="optionsBuilder">The builder, after the provider (<c>UseSqlite</c>, <c>UseNpgsql</c>…).</param>
    /// <param name="configure">Sets the run-id tag, the row-level-security hook and the pristine checks.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static DbContextOptionsBuilder UseIsolation(this DbContextOptionsBuilder optionsBuilder, Action<IsolationDbContextOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(optionsBuilder);
        ArgumentNullException.ThrowIfNull(configure);
        var existing = optionsBuilder.Options.FindExtension<IsolationOptionsExtension>();
        var options = new IsolationDbContextOptions();
        if (existing is not null)
        {
            options.CopyFrom(existing.Options);
        }

        configure(options);
        ((IDbContextOptionsBuilderInfrastructure)optionsBuilder).AddOrUpdateExtension(new IsolationOptionsExtension(options));
        return optionsBuilder;
    }

    /// <summary>Guards the context as <see cref="UseIsolation(DbContextOptionsBuilder)"/> does.</summary>
    /// <typeparam name="TContext">The context type.</typeparam>
    /// <param name="optionsBuilder">The builder, after the provider.</param>
    /// <returns>The builder, for chaining.</returns>
    public static DbContextOptionsBuilder<TContext> UseIsolation<TContext>(this DbContextOptionsBuilder<TContext> optionsBuilder)
        where TContext : DbContext
        => (DbContextOptionsBuilder<TContext>)UseIsolation((DbContextOptionsBuilder)optionsBuilder);

    /// <summary>Guards the context as <see cref="UseIsolation(DbContextOptionsBuilder)"/> does, with options.</summary>
    /// <typeparam name="TContext">The context type.</typeparam>
    /// <param name="optionsBuilder">The builder, after the provider.</param>
    /// <param name="configure">Sets the run-id tag, the row-level-security hook and the pristine checks.</param>
    /// <returns>The builder, for chaining.</returns>
    public static DbContextOptionsBuilder<TContext> UseIsolation<TContext>(this DbContextOptionsBuilder<TContext> optionsBuilder, Action<IsolationDbContextOptions> configure)
        where TContext : DbContext
        => (DbContextOptionsBuilder<TContext>)UseIsolation((DbContextOptionsBuilder)optionsBuilder, configure);
}
