using Isolation;
using Isolation.Diagnostics;
using Isolation.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <content>Registers isolated sessions.</content>
public static partial class IsolationServiceCollectionExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TSession"/> as an isolated session with the default pool options
    /// (<see cref="IsolatedSessionOptions"/>): <see cref="IsolationScope.OpenSessionAsync{TSession}"/> calls
    /// <paramref name="factory"/> for each session, bounded by the pool, and binds the session to the scope. Adds the
    /// isolation runtime when it is not registered yet. Safe to call more than once (the first factory is kept).
    /// </summary>
    /// <typeparam name="TSession">The session type, for example <c>NpgsqlConnection</c> or a <c>DbContext</c>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="factory">Creates (and opens) a new session, with the scope's services and a token cancelled when the scope aborts. Must return a new instance on every call.</param>
    /// <returns>The service collection.</returns>
    /// <example>
    /// <code>
    /// services.AddIsolatedSession&lt;NpgsqlConnection&gt;(async (sp, ct) =>
    /// {
    ///     var connection = new NpgsqlConnection(connectionString);
    ///     await connection.OpenAsync(ct);
    ///     return connection;
    /// });
    /// </code>
    /// </example>
    public static IServiceCollection AddIsolatedSession<TSession>(
        this IServiceCollection services,
        Func<IServiceProvider, CancellationToken, ValueTask<TSession>> factory)
        where TSession : class
    {
        Guard.NotNull(services);
        Guard.NotNull(factory);
        return AddSession(services, factory, configure: null);
    }

    /// <summary>
    /// Registers <typeparamref name="TSession"/> as an isolated session (see
    /// <see cref="AddIsolatedSession{TSession}(IServiceCollection, Func{IServiceProvider, CancellationToken, ValueTask{TSession}})"/>)
    /// and configures its pool.
    /// </summary>
    /// <typeparam name="TSession">The session type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="factory">Creates (and opens) a new session, with the scope's services and a token cancelled when the scope aborts.</param>
    /// <param name="configure">Configures the pool (<see cref="IsolatedSessionOptions.MaxSessions"/>, <see cref="IsolatedSessionOptions.AcquireTimeout"/>); validated when the pool is first used, or at host start.</param>
    /// <returns>The service collection.</returns>
    /// <example>
    /// <code>
    /// services.AddIsolatedSession&lt;SqliteConnection&gt;(
    ///     (sp, ct) => ValueTask.FromResult(OpenSqlite()),
    ///     o => { o.MaxSessions = 10; o.AcquireTimeout = TimeSpan.FromSeconds(2); });
    /// </code>
    /// </example>
    public static IServiceCollection AddIsolatedSession<TSession>(
        this IServiceCollection services,
        Func<IServiceProvider, CancellationToken, ValueTask<TSession>> factory,
        Action<IsolatedSessionOptions> configure)
        where TSession : class
    {
        Guard.NotNull(services);
        Guard.NotNull(factory);
        Guard.NotNull(configure);
        return AddSession(services, factory, configure);
    }

    private static IServiceCollection AddSession<TSession>(
        IServiceCollection services,
        Func<IServiceProvider, CancellationToken, ValueTask<TSession>> factory,
        Action<IsolatedSessionOptions>? configure)
        where TSession : class
    {
        AddCore(services);
        var name = SessionPool<TSession>.TypeName;
        var builder = services.AddOptions<IsolatedSessionOptions>(name);
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IsolatedSessionOptions>, IsolatedSessionOptionsValidator<TSession>>());
        services.TryAddSingleton(sp => new SessionPool<TSession>(
            factory,
            sp.GetRequiredService<IOptionsMonitor<IsolatedSessionOptions>>().Get(name),
            sp.GetRequiredService<IsolationMonitor>(),
            sp.GetRequiredService<SessionMetrics>(),
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    static partial void AddSessionCore(IServiceCollection services) =>
        services.TryAddSingleton(static sp => new SessionMetrics(sp.GetRequiredService<IsolationMonitor>().Metrics.Meter));
}
