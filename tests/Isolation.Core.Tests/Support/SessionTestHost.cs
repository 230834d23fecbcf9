using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Support;

/// <summary>A service provider with the isolation runtime and one session type, for session tests.</summary>
internal sealed class SessionTestHost : IAsyncDisposable
{
    private SessionTestHost(ServiceProvider provider)
    {
        Provider = provider;
        Factory = provider.GetRequiredService<IIsolationScopeFactory>();
        Monitor = provider.GetRequiredService<IsolationMonitor>();
    }

    public ServiceProvider Provider { get; }

    public IIsolationScopeFactory Factory { get; }

    public IsolationMonitor Monitor { get; }

    /// <summary>A host whose sessions are in-memory SQLite connections, opened by the factory.</summary>
    public static SessionTestHost Sqlite(
        IsolationMode mode = IsolationMode.Enforce,
        Action<IsolatedSessionOptions>? configure = null,
        Action<IServiceCollection>? services = null,
        LeakDetectionLevel leakDetection = LeakDetectionLevel.Full,
        string connectionString = "Data Source=:memory:")
    {
        return Create<SqliteConnection>(
            (_, _) =>
            {
                var connection = new SqliteConnection(connectionString);
                connection.Open();
                return ValueTask.FromResult(connection);
            },
            mode,
            configure,
            services,
            leakDetection);
    }

    public static SessionTestHost Create<TSession>(
        Func<IServiceProvider, CancellationToken, ValueTask<TSession>> factory,
        IsolationMode mode = IsolationMode.Enforce,
        Action<IsolatedSessionOptions>? configure = null,
        Action<IServiceCollection>? services = null,
        LeakDetectionLevel leakDetection = LeakDetectionLevel.Full)
        where TSession : class
    {
        var collection = new ServiceCollection();
        services?.Invoke(collection);
        collection.AddIsolation(o =>
        {
            o.Mode = mode;
            o.LeakDetection = leakDetection;
        });
        if (configure is null)
        {
            collection.AddIsolatedSession(factory);
        }
        else
        {
            collection.AddIsolatedSession(factory, configure);
        }

        return new SessionTestHost(collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true }));
    }

    public SessionPool<TSession> Pool<TSession>()
        where TSession : class => Provider.GetRequiredService<SessionPool<TSession>>();

    /// <summary>
    /// Creates a scope without making it the ambient scope of the calling flow: the ambient scope set inside the task
    /// does not flow back to the awaiting caller.
    /// </summary>
    public Task<IsolationScope> CreateDetachedScopeAsync(string userId, TimeSpan? deadline = null) =>
        Task.Run(() => Factory.CreateScope(new UserExecutionContext(userId), deadline));

    public ValueTask DisposeAsync() => Provider.DisposeAsync();
}
