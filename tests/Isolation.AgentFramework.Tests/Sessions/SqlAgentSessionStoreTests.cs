using Isolation.AgentFramework.Tests.Support;
using Microsoft.Agents.AI;
using Microsoft.Data.Sqlite;

namespace Isolation.AgentFramework.Tests.Sessions;

/// <summary>The SQL store on real SQLite and PostgreSQL: optimistic versions, owners kept across a restart.</summary>
public sealed class SqlAgentSessionStoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<StoreKind> SqlStores => new() { StoreKind.Sqlite, StoreKind.Postgres };

    public static TheoryData<StoreKind> AllStores => new() { StoreKind.Memory, StoreKind.Sqlite, StoreKind.Postgres };

    [Theory]
    [MemberData(nameof(AllStores))]
    public async Task SaveSessionAsync_StaleCopy_ThrowsConflictAndKeepsNewerHistory(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind);
        await host.TurnAsync("alice", "c-1", "first", Ct);
        var key = new AgentSessionStoreKey("c-1");

        await using (host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            var a = await host.Store.GetSessionAsync(host.Agent, key, Ct);
            var b = await host.Store.GetSessionAsync(host.Agent, key, Ct);
            await host.Agent.RunAsync("from a", a!, cancellationToken: Ct);
            await host.Store.SaveSessionAsync(host.Agent, key, a!, Ct);
            await host.Agent.RunAsync("from b", b!, cancellationToken: Ct);

            var ex = await Assert.ThrowsAsync<AgentSessionConflictException>(
                async () => await host.Store.SaveSessionAsync(host.Agent, key, b!, Ct));

            Assert.Equal("c-1", ex.SessionId);
            Assert.Equal(1, ex.ExpectedVersion);
            Assert.Contains("Load it again", ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal(["first", "from a"], await host.HistoryAsync("alice", "c-1", Ct));
    }

    [Theory]
    [MemberData(nameof(AllStores))]
    public async Task SaveSessionAsync_SameSessionTwice_AdvancesVersion(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind);
        var key = new AgentSessionStoreKey("c-1");
        await using (host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            var session = await host.Store.GetOrCreateSessionAsync(host.Agent, key, Ct);
            for (var i = 0; i < 3; i++)
            {
                await host.Agent.RunAsync("turn " + i, session, cancellationToken: Ct);
                await host.Store.SaveSessionAsync(host.Agent, key, session, Ct);
            }
        }

        Assert.Equal(["turn 0", "turn 1", "turn 2"], await host.HistoryAsync("alice", "c-1", Ct));
    }

    [Theory]
    [MemberData(nameof(SqlStores))]
    public async Task GetSessionAsync_AfterRestart_OwnersAreKept(StoreKind kind)
    {
        var file = kind == StoreKind.Sqlite ? Path.Combine(Path.GetTempPath(), "iso_af_restart_" + Guid.NewGuid().ToString("N") + ".db") : null;
        var table = kind == StoreKind.Postgres ? PostgresTestDatabase.UniqueTable() : null;
        try
        {
            var first = await AgentTestHost.CreateAsync(kind, IsolationMode.Observe, sqliteFile: file, postgresTable: table);
            await first.TurnAsync("alice", "c-alice", "my secret", Ct);
            await first.DisposeServicesAsync();

            // A new process: new services, new store objects, nothing in memory; only the database is the same.
            await using var second = await AgentTestHost.CreateAsync(kind, IsolationMode.Observe, sqliteFile: file, postgresTable: table);
            await using (var scope = second.Factory.CreateScope(new UserExecutionContext("mallory")))
            {
                Assert.Null(await second.Store.GetSessionAsync(second.Agent, new AgentSessionStoreKey("c-alice"), Ct));
                Assert.Equal(1, scope.ViolationCount);
            }

            var answer = await second.TurnAsync("alice", "c-alice", "again", Ct);
            Assert.Equal("answer to 'again' after 2 user messages", answer);
        }
        finally
        {
            if (file is not null)
            {
                SqliteConnection.ClearAllPools();
                File.Delete(file);
                File.Delete(file + "-wal");
                File.Delete(file + "-shm");
            }

            if (table is not null)
            {
                await PostgresTestDatabase.DropTableAsync(PostgresTestDatabase.ConnectionString(), table);
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllStores))]
    public async Task SaveSessionAsync_TwoNewSessionsOfDifferentUsersUnderOneId_SecondThrowsConflict(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind);
        var key = new AgentSessionStoreKey("c-race");

        // Straight on the inner store, as when both first saves passed the owner check at the same instant.
        await using (host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            await host.InnerStore.SaveSessionAsync(host.Agent, key, await host.Agent.CreateSessionAsync(Ct), Ct);
        }

        await using (host.Factory.CreateScope(new UserExecutionContext("mallory")))
        {
            var ex = await Assert.ThrowsAsync<AgentSessionConflictException>(
                async () => await host.InnerStore.SaveSessionAsync(host.Agent, key, await host.Agent.CreateSessionAsync(Ct), Ct));
            Assert.Contains("already stored", ex.Message, StringComparison.Ordinal);
            Assert.Equal(0, ex.ExpectedVersion);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("sessions; DROP TABLE users")]
    [InlineData("1sessions")]
    [InlineData("sessions-x")]
    public void Constructor_NotAPlainIdentifier_ThrowsArgumentExceptionNamingTheRule(string table)
    {
        var ex = Assert.Throws<ArgumentException>(() => new SqlAgentSessionStore<SqliteConnection>(new SqlAgentSessionStoreOptions { TableName = table }));

        Assert.Contains("TableName", ex.Message, StringComparison.Ordinal);
        Assert.Contains("letters, digits or underscores", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TableName_Default_IsIsolationAgentSessions()
    {
        Assert.Equal("isolation_agent_sessions", new SqlAgentSessionStore<SqliteConnection>().TableName);
    }

    [Fact]
    public async Task GetSessionAsync_OutsideScope_ThrowsInvalidOperation()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Sqlite);

        await Assert.ThrowsAsync<InvalidOperationException>(
            async () => await host.InnerStore.GetSessionAsync(host.Agent, new AgentSessionStoreKey("c-1"), Ct));
    }
}
