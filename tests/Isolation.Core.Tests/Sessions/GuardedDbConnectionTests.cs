using System.Data;
using System.Data.Common;
using Dapper;
using Isolation.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Isolation.Tests.Sessions;

public sealed class GuardedDbConnectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AsDbConnection_AdoNetCode_RunsUnchanged()
    {
        await using var host = SessionTestHost.Sqlite();
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        DbConnection db = guard.AsDbConnection();

        await CreateNotesAsync(db);
        await using (var transaction = await db.BeginTransactionAsync(Ct))
        {
            await using var insert = db.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO notes (user_id, text) VALUES ($user, $text)";
            var user = insert.CreateParameter();
            user.ParameterName = "$user";
            user.Value = "alice";
            var text = insert.CreateParameter();
            text.ParameterName = "$text";
            text.Value = "hello";
            insert.Parameters.Add(user);
            insert.Parameters.Add(text);
            Assert.Same(db, insert.Connection);
            Assert.Same(transaction, insert.Transaction);
            Assert.Equal(1, await insert.ExecuteNonQueryAsync(Ct));
            await transaction.CommitAsync(Ct);
        }

        await using var select = db.CreateCommand();
        select.CommandText = "SELECT user_id, text FROM notes";
        await using var reader = await select.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal("alice", reader.GetString(0));
        Assert.Equal("hello", reader.GetString(1));
        Assert.False(await reader.ReadAsync(Ct));
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task AsDbConnection_DapperCode_RunsUnchanged()
    {
        await using var host = SessionTestHost.Sqlite();
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        var db = guard.AsDbConnection();

        await db.ExecuteAsync("CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, text TEXT NOT NULL)");
        using (var transaction = db.BeginTransaction())
        {
            await db.ExecuteAsync("INSERT INTO notes (user_id, text) VALUES (@UserId, @Text)", new[] { new Note("alice", "one"), new Note("alice", "two") }, transaction);
            transaction.Commit();
        }

        var notes = (await db.QueryAsync<Note>("SELECT user_id AS UserId, text AS Text FROM notes WHERE user_id = @user ORDER BY id", new { user = "alice" })).ToList();
        var count = db.ExecuteScalar<long>("SELECT count(*) FROM notes");

        Assert.Equal([new Note("alice", "one"), new Note("alice", "two")], notes);
        Assert.Equal(2, count);
        Assert.Same(db, guard.AsDbConnection());
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task ExecuteAsync_FromAnotherScopeInEnforce_ThrowsBeforeRunningTheCommand()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await alice.OpenSessionAsync<SqliteConnection>(Ct);
        var db = guard.AsDbConnection();
        await CreateNotesAsync(db);

        var exception = await Task.Run(
            async () =>
            {
                await using var bob = host.Factory.CreateScope(new UserExecutionContext("bob"));
                return await Assert.ThrowsAsync<IsolationViolationException>(
                    () => db.ExecuteAsync("INSERT INTO notes (user_id, text) VALUES ('bob', 'sneaky')"));
            },
            Ct);

        Assert.Equal(ViolationKind.CrossScopeAccess, exception.Kind);
        Assert.Contains("(CreateCommand)", exception.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM notes"));
    }

    [Fact]
    public async Task ExecuteScalar_WhileAnotherFlowRunsAnOperation_ThrowsConcurrentUse()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        var db = guard.AsDbConnection();

        IsolationViolationException exception;
        using (guard.Enter())
        {
            exception = await Task.Run(() => Assert.Throws<IsolationViolationException>(() => db.ExecuteScalar<long>("SELECT 1")), Ct);
        }

        Assert.Equal(ViolationKind.ConcurrentUse, exception.Kind);
        Assert.Equal(1L, db.ExecuteScalar<long>("SELECT 1"));
    }

    [Fact]
    public async Task ExecuteReader_NestedCommandInSameFlow_IsNotConcurrentUse()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        var db = guard.AsDbConnection();
        await CreateNotesAsync(db);
        await db.ExecuteAsync("INSERT INTO notes (user_id, text) VALUES ('alice', 'a'), ('alice', 'b')");

        var lengths = new List<long>();
        await using (var command = db.CreateCommand())
        {
            command.CommandText = "SELECT text FROM notes ORDER BY id";
            await using var reader = await command.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct))
            {
                lengths.Add(await db.ExecuteScalarAsync<long>("SELECT length(@t)", new { t = reader.GetString(0) + "!" }));
            }
        }

        Assert.Equal([2L, 2L], lengths);
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task Commit_AfterSessionDisposed_ThrowsUseAfterDispose()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        var db = guard.AsDbConnection();
        var transaction = db.BeginTransaction();

        await guard.DisposeAsync();

        var exception = Assert.Throws<IsolationViolationException>(transaction.Commit);
        Assert.Equal(ViolationKind.UseAfterDispose, exception.Kind);
        Assert.Contains("(Commit)", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_OfGuardedConnection_ReturnsTheSession()
    {
        await using var host = SessionTestHost.Sqlite(configure: o => o.MaxSessions = 1);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);

        await using (var db = guard.AsDbConnection())
        {
            Assert.Equal(ConnectionState.Open, db.State);
        }

        Assert.True(guard.IsDisposed);
        Assert.Equal(0, host.Pool<SqliteConnection>().Held);

        var sync = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        sync.AsDbConnection().Dispose();
        Assert.True(sync.IsDisposed);
        Assert.Equal(0, host.Pool<SqliteConnection>().Held);
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task DisposeAsync_OfScope_RollsBackTransactionOfLeakedSession()
    {
        // A named in-memory database lives while one connection to it is open: the keeper sees what the sessions committed.
        var connectionString = $"Data Source=iso-{Guid.NewGuid():N};Mode=Memory;Cache=Shared";
        await using var keeper = new SqliteConnection(connectionString);
        await keeper.OpenAsync(Ct);
        await keeper.ExecuteAsync("CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, text TEXT NOT NULL)");
        await using var host = SessionTestHost.Sqlite(IsolationMode.Observe, connectionString: connectionString);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
            var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
            var db = guard.AsDbConnection();
            var transaction = await db.BeginTransactionAsync(Ct);
            await db.ExecuteAsync("INSERT INTO notes (user_id, text) VALUES ('alice', 'half done')", transaction: transaction);
            throw new InvalidOperationException("the model call failed mid-transaction");
        });

        Assert.Equal("the model call failed mid-transaction", failure.Message);
        Assert.Equal(0L, await keeper.ExecuteScalarAsync<long>("SELECT count(*) FROM notes"));
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.SessionLeak));
        Assert.Equal(0, host.Pool<SqliteConnection>().Held);
    }

    [Fact]
    public async Task Commands_InModeOff_AreNotChecked()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Off);
        await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await alice.OpenSessionAsync<SqliteConnection>(Ct);
        var db = guard.AsDbConnection();

        var value = await Task.Run(
            async () =>
            {
                await using var bob = host.Factory.CreateScope(new UserExecutionContext("bob"));
                return await db.ExecuteScalarAsync<long>("SELECT 7");
            },
            Ct);

        Assert.Equal(7L, value);
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    private static Task<int> CreateNotesAsync(DbConnection db) =>
        db.ExecuteAsync("CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, text TEXT NOT NULL)");

    private sealed record Note(string UserId, string Text);
}
