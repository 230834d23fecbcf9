using Isolation.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Isolation.Tests.Sessions;

public sealed class SessionPoolTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenSessionAsync_PoolFullForAcquireTimeout_ThrowsSessionPoolExhaustedException()
    {
        var time = new FakeTimeProvider();
        await using var host = SessionTestHost.Sqlite(
            configure: o =>
            {
                o.MaxSessions = 2;
                o.AcquireTimeout = TimeSpan.FromSeconds(5);
            },
            services: s => s.AddSingleton<TimeProvider>(time));
        await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var first = await alice.OpenSessionAsync<SqliteConnection>(Ct);
        await using var second = await alice.OpenSessionAsync<SqliteConnection>(Ct);

        await using var bob = await host.CreateDetachedScopeAsync("bob");
        var waiting = bob.OpenSessionAsync<SqliteConnection>(Ct).AsTask();
        Assert.False(waiting.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        var exception = await Assert.ThrowsAsync<SessionPoolExhaustedException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(typeof(SqliteConnection).FullName, exception.PoolName);
        Assert.Equal(2, exception.MaxSessions);
        Assert.Equal(2, exception.HeldSessions);
        Assert.Equal(TimeSpan.FromSeconds(5), exception.WaitTime);
        Assert.Contains("Session pool 'Microsoft.Data.Sqlite.SqliteConnection' is exhausted", exception.Message, StringComparison.Ordinal);
        Assert.Contains("all 2 sessions were held", exception.Message, StringComparison.Ordinal);
        Assert.Contains("'bob'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("MaxSessions", exception.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<TimeoutException>(exception);

        var pool = host.Pool<SqliteConnection>();
        Assert.Equal(1, pool.Timeouts);
        Assert.Equal(2, pool.Held);
    }

    [Fact]
    public async Task OpenSessionAsync_SlotReturnedWhileWaiting_GetsTheSlot()
    {
        var time = new FakeTimeProvider();
        await using var host = SessionTestHost.Sqlite(
            configure: o => o.MaxSessions = 1,
            services: s => s.AddSingleton<TimeProvider>(time));
        await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
        var held = await alice.OpenSessionAsync<SqliteConnection>(Ct);

        await using var bob = await host.CreateDetachedScopeAsync("bob");
        var waiting = bob.OpenSessionAsync<SqliteConnection>(Ct).AsTask();
        Assert.False(waiting.IsCompleted);

        await held.DisposeAsync();
        await using var guard = await waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.False(guard.IsDisposed);
        Assert.Equal(1, host.Pool<SqliteConnection>().Waits);
        Assert.Equal(0, host.Pool<SqliteConnection>().Timeouts);
    }

    [Fact]
    public async Task OpenSessionAsync_ScopeAbortedWhileWaiting_CancelsTheWait()
    {
        await using var host = SessionTestHost.Sqlite(configure: o => o.MaxSessions = 1);
        await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var held = await alice.OpenSessionAsync<SqliteConnection>(Ct);

        await using var bob = await host.CreateDetachedScopeAsync("bob");
        var waiting = bob.OpenSessionAsync<SqliteConnection>(Ct).AsTask();
        Assert.False(waiting.IsCompleted);

        bob.Abort();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(1, host.Pool<SqliteConnection>().Held);
        Assert.Equal(0, host.Pool<SqliteConnection>().Timeouts);
    }

    [Fact]
    public async Task OpenSessionAsync_ScopeDeadlinePassesWhileWaiting_CancelsTheWait()
    {
        var time = new FakeTimeProvider();
        await using var host = SessionTestHost.Sqlite(
            configure: o =>
            {
                o.MaxSessions = 1;
                o.AcquireTimeout = TimeSpan.FromMinutes(1);
            },
            services: s => s.AddSingleton<TimeProvider>(time));
        await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var held = await alice.OpenSessionAsync<SqliteConnection>(Ct);

        await using var bob = await host.CreateDetachedScopeAsync("bob", deadline: TimeSpan.FromSeconds(2));
        var waiting = bob.OpenSessionAsync<SqliteConnection>(Ct).AsTask();
        time.Advance(TimeSpan.FromSeconds(2));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.True(bob.DeadlineExceeded);
    }

    [Fact]
    public async Task OpenSessionAsync_CallerCancelsWhileWaiting_CancelsTheWait()
    {
        await using var host = SessionTestHost.Sqlite(configure: o => o.MaxSessions = 1);
        await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var held = await alice.OpenSessionAsync<SqliteConnection>(Ct);
        using var cancellation = new CancellationTokenSource();

        var waiting = alice.OpenSessionAsync<SqliteConnection>(cancellation.Token).AsTask();
        await cancellation.CancelAsync();

        var exception = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(1, host.Pool<SqliteConnection>().Held);
        Assert.NotNull(exception);
    }

    [Fact]
    public async Task OpenSessionAsync_FactoryThrows_ReturnsTheSlot()
    {
        var calls = 0;
        await using var host = SessionTestHost.Create<SqliteConnection>(
            (_, _) =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    throw new SqliteException("database is locked", 5);
                }

                var connection = new SqliteConnection("Data Source=:memory:");
                connection.Open();
                return ValueTask.FromResult(connection);
            },
            configure: o => o.MaxSessions = 1);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));

        await Assert.ThrowsAsync<SqliteException>(async () => await scope.OpenSessionAsync<SqliteConnection>(Ct));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);

        Assert.Equal(1, host.Pool<SqliteConnection>().Held);
    }

    [Fact]
    public async Task OpenSessionAsync_FactoryReturnsNull_ThrowsAndReturnsTheSlot()
    {
        await using var host = SessionTestHost.Create<SqliteConnection>((_, _) => ValueTask.FromResult<SqliteConnection>(null!), configure: o => o.MaxSessions = 1);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(async () => await scope.OpenSessionAsync<SqliteConnection>(Ct));

        Assert.Contains("returned null", exception.Message, StringComparison.Ordinal);
        Assert.Equal(0, host.Pool<SqliteConnection>().Held);
    }

    [Fact]
    public async Task OpenSessionAsync_TypeNotRegistered_ThrowsWithFix()
    {
        await using var host = SessionTestHost.Sqlite();
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(async () => await scope.OpenSessionAsync<System.IO.MemoryStream>(Ct));

        Assert.Contains("No session pool is registered for 'System.IO.MemoryStream'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("AddIsolatedSession<MemoryStream>", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenSessionAsync_ScopeDisposed_ThrowsObjectDisposed()
    {
        await using var host = SessionTestHost.Sqlite();
        var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await scope.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await scope.OpenSessionAsync<SqliteConnection>(Ct));
    }

    [Fact]
    public async Task OpenSessionAsync_FactoryGetsScopeServices()
    {
        IServiceProvider? seen = null;
        await using var host = SessionTestHost.Create<SqliteConnection>((sp, _) =>
        {
            seen = sp;
            return ValueTask.FromResult(new SqliteConnection("Data Source=:memory:"));
        });
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));

        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);

        Assert.Same(scope.Services, seen);
        Assert.Same(scope, seen!.GetRequiredService<IsolationScope>());
    }

    [Theory]
    [InlineData(0, 5, "MaxSessions = 0")]
    [InlineData(100_001, 5, "MaxSessions = 100001")]
    [InlineData(10, 0, "AcquireTimeout = 00:00:00")]
    [InlineData(10, -1, "An infinite wait is not allowed")]
    public async Task AddIsolatedSession_InvalidOptions_FailsValidationWithClearMessage(int maxSessions, int timeoutSeconds, string expected)
    {
        await using var host = SessionTestHost.Sqlite(configure: o =>
        {
            o.MaxSessions = maxSessions;
            o.AcquireTimeout = timeoutSeconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(timeoutSeconds);
        });
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(async () => await scope.OpenSessionAsync<SqliteConnection>(Ct));

        Assert.Contains("Session pool 'Microsoft.Data.Sqlite.SqliteConnection'", exception.Message, StringComparison.Ordinal);
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddIsolatedSession_CalledTwice_RegistersOnePoolAndKeepsFirstFactory()
    {
        var services = new ServiceCollection();
        services.AddIsolatedSession<SqliteConnection>((_, _) => ValueTask.FromResult(new SqliteConnection("Data Source=first;Mode=Memory")), o => o.MaxSessions = 3);
        services.AddIsolatedSession<SqliteConnection>((_, _) => ValueTask.FromResult(new SqliteConnection("Data Source=second;Mode=Memory")));
        await using var provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(SessionPool<SqliteConnection>));
        Assert.Single(services, d => d.ServiceType == typeof(SessionMetrics));
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        Assert.Equal("first", guard.Session.DataSource);
        Assert.Equal(3, provider.GetRequiredService<SessionPool<SqliteConnection>>().MaxSessions);
    }

    [Fact]
    public void IsolatedSessionOptions_Defaults_AreDocumentedValues()
    {
        var options = new IsolatedSessionOptions();

        Assert.Equal(100, options.MaxSessions);
        Assert.Equal(TimeSpan.FromSeconds(15), options.AcquireTimeout);
    }
}
