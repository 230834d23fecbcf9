using Isolation.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Isolation.Tests.Sessions;

public sealed class SessionLoggingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenSessionAsync_PoolExhausted_LogsEvent1101WithPoolAndNumbers()
    {
        var time = new FakeTimeProvider();
        await using var host = SessionTestHost.Sqlite(
            configure: o =>
            {
                o.MaxSessions = 1;
                o.AcquireTimeout = TimeSpan.FromSeconds(1);
            },
            services: s => s.AddSingleton<TimeProvider>(time).AddLogging(b => b.AddFakeLogging()));
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var held = await scope.OpenSessionAsync<SqliteConnection>(Ct);

        var waiting = scope.OpenSessionAsync<SqliteConnection>(Ct).AsTask();
        time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<SessionPoolExhaustedException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct));

        var record = Assert.Single(host.Provider.GetFakeLogCollector().GetSnapshot(), r => r.Id.Id == 1101);
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Equal("SessionPoolExhausted", record.Id.Name);
        Assert.Contains("Microsoft.Data.Sqlite.SqliteConnection", record.Message, StringComparison.Ordinal);
        Assert.Contains("1 of 1 sessions held", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_SessionCloseThrows_LogsEvent1102AndStillReturnsTheSlot()
    {
        await using var host = SessionTestHost.Create<FailingToCloseSession>(
            (_, _) => ValueTask.FromResult(new FailingToCloseSession()),
            configure: o => o.MaxSessions = 1,
            services: s => s.AddLogging(b => b.AddFakeLogging()));
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));

        var guard = await scope.OpenSessionAsync<FailingToCloseSession>(Ct);
        await guard.DisposeAsync();
        await using var next = await scope.OpenSessionAsync<FailingToCloseSession>(Ct);

        var record = Assert.Single(host.Provider.GetFakeLogCollector().GetSnapshot(), r => r.Id.Id == 1102);
        Assert.Equal(LogLevel.Error, record.Level);
        Assert.IsType<IOException>(record.Exception);
        Assert.Equal(1, host.Pool<FailingToCloseSession>().Held);
    }

    [Fact]
    public async Task AddIsolatedSession_InvalidOptions_FailStartupValidation()
    {
        var services = new ServiceCollection();
        services.AddIsolatedSession<SqliteConnection>(
            (_, _) => ValueTask.FromResult(new SqliteConnection("Data Source=:memory:")),
            o => o.MaxSessions = 0);
        await using var provider = services.BuildServiceProvider();

        var exception = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Session pool 'Microsoft.Data.Sqlite.SqliteConnection' has MaxSessions = 0", exception.Message, StringComparison.Ordinal);
    }

    /// <summary>A session whose close fails, as a connection to a server that went away can.</summary>
    public sealed class FailingToCloseSession : IDisposable
    {
        public void Dispose() => throw new IOException("The server closed the connection before the session could be closed.");
    }
}
