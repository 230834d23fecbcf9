using Dapper;
using Isolation.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Isolation.Tests.Sessions;

/// <summary>Session guards and pools against a real PostgreSQL server (<c>ISOLATION_TEST_POSTGRES</c>).</summary>
public sealed class PostgresSessionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenSessionAsync_100ConcurrentRequestsAgainstPoolOf10_NeverMoreThan10ServerConnectionsAndAllReturned()
    {
        const int Requests = 100;
        const int MaxSessions = 10;
        var app = PostgresTestDatabase.UniqueName("iso_pool");
        var connectionString = PostgresTestDatabase.ConnectionString(app);
        await using var admin = await PostgresTestDatabase.OpenAdminAsync(Ct);
        var baseline = await PostgresTestDatabase.CountBackendsAsync(admin, app, stateFilter: null, Ct);
        await using var host = NpgsqlHost(connectionString, IsolationMode.Enforce, o =>
        {
            o.MaxSessions = MaxSessions;
            o.AcquireTimeout = TimeSpan.FromSeconds(30);
        });

        // The first ten requests wait for each other inside their sessions, so the pool is provably full and the
        // other ninety provably wait; after that every request goes through as fast as the pool allows.
        var saturated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inside = 0;
        var maxServerConnections = 0L;

        async Task<int> RequestAsync(int i)
        {
            await using var scope = host.Factory.CreateScope(new UserExecutionContext("user-" + i), deadline: Bound);
            await using var session = await scope.OpenSessionAsync<NpgsqlConnection>(scope.Aborted);
            var db = session.AsDbConnection();
            if (Interlocked.Increment(ref inside) == MaxSessions)
            {
                saturated.TrySetResult();
            }

            await saturated.Task.WaitAsync(Bound, scope.Aborted);
            var serverConnections = await db.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = @app", new { app });
            InterlockedMax(ref maxServerConnections, serverConnections);
            var echoed = await db.ExecuteScalarAsync<int>("SELECT @i + pg_backend_pid() * 0", new { i });
            Interlocked.Decrement(ref inside);
            return echoed;
        }

        var requests = new Task<int>[Requests];
        for (var i = 0; i < Requests; i++)
        {
            var n = i;
            requests[i] = Task.Run(() => RequestAsync(n), Ct);
        }

        var results = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(120), Ct);

        var pool = host.Pool<NpgsqlConnection>();
        Assert.Equal(Enumerable.Range(0, Requests), results);
        Assert.InRange(maxServerConnections, 1, MaxSessions);
        Assert.Equal(MaxSessions, pool.PeakHeld);
        Assert.Equal(Requests, pool.Acquired);
        Assert.InRange(pool.Waits, Requests - MaxSessions, Requests);
        Assert.Equal(0, pool.Timeouts);
        Assert.Equal(0, pool.Held);
        Assert.Equal(0, host.Monitor.TotalViolations);

        // Every session is back: nothing is running or inside a transaction on the server.
        Assert.Equal(0, await PostgresTestDatabase.CountBackendsAsync(admin, app, "active,idle in transaction,idle in transaction (aborted)", Ct));
        Assert.InRange(await PostgresTestDatabase.CountBackendsAsync(admin, app, stateFilter: null, Ct), 0, MaxSessions);

        // Npgsql keeps the returned physical connections idle in its own pool; once it lets them go, the count is back to baseline.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
        Assert.Equal(baseline, await PostgresTestDatabase.WaitForNoBackendsAsync(admin, app, TimeSpan.FromSeconds(20), Ct));

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"pool of {MaxSessions}, {Requests} requests: peak held {pool.PeakHeld}, max server connections seen {maxServerConnections}, waits {pool.Waits}, timeouts {pool.Timeouts}");
    }

    [Fact]
    public async Task DisposeAsync_OfScope_RequestThrowingMidTransactionLeavesNoOpenConnectionOrTransaction()
    {
        var app = PostgresTestDatabase.UniqueName("iso_tx");
        var table = PostgresTestDatabase.UniqueName("iso_notes");
        var connectionString = PostgresTestDatabase.ConnectionString(app, pooling: false);
        await using var admin = await PostgresTestDatabase.OpenAdminAsync(Ct);
        await admin.ExecuteAsync($"CREATE TABLE {table} (id serial PRIMARY KEY, user_id text NOT NULL, text text NOT NULL)");
        await using var host = NpgsqlHost(connectionString, IsolationMode.Observe, o => o.MaxSessions = 2);

        try
        {
            var inTransaction = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);

            // One request disposes its session properly, one forgets to: both throw in the middle of a transaction.
            await Assert.ThrowsAsync<InvalidOperationException>(() => Task.Run(
                async () =>
                {
                    await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
                    await using var session = await scope.OpenSessionAsync<NpgsqlConnection>(scope.Aborted);
                    await FailMidTransactionAsync(session.AsDbConnection(), table, inTransaction: null);
                },
                Ct));
            await Assert.ThrowsAsync<InvalidOperationException>(() => Task.Run(
                async () =>
                {
                    await using var scope = host.Factory.CreateScope(new UserExecutionContext("bob"));
                    var session = await scope.OpenSessionAsync<NpgsqlConnection>(scope.Aborted);
                    await FailMidTransactionAsync(session.AsDbConnection(), table, inTransaction);
                },
                Ct));

            // While bob's request was inside its transaction, the server saw it; after the scope ended, nothing remains.
            Assert.Equal(1, await inTransaction.Task.WaitAsync(Bound, Ct));
            Assert.Equal(0L, await admin.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}"));
            Assert.Equal(0, await PostgresTestDatabase.CountBackendsAsync(admin, app, "idle in transaction,idle in transaction (aborted),active", Ct));
            Assert.Equal(0, await PostgresTestDatabase.WaitForNoBackendsAsync(admin, app, TimeSpan.FromSeconds(20), Ct));
            Assert.Equal(0, host.Pool<NpgsqlConnection>().Held);
            Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.SessionLeak));
        }
        finally
        {
            await admin.ExecuteAsync($"DROP TABLE IF EXISTS {table}");
        }
    }

    [Fact]
    public async Task OpenSessionAsync_ErrorsAndTimeoutsInSomeRequests_DoNotAffectTheOthers()
    {
        const int Requests = 30;
        var app = PostgresTestDatabase.UniqueName("iso_fail");
        var connectionString = PostgresTestDatabase.ConnectionString(app);
        await using var admin = await PostgresTestDatabase.OpenAdminAsync(Ct);
        await using var host = NpgsqlHost(connectionString, IsolationMode.Enforce, o =>
        {
            o.MaxSessions = 5;
            o.AcquireTimeout = TimeSpan.FromSeconds(30);
        });

        async Task<string> RequestAsync(int i)
        {
            // Every fifth request has a short deadline and runs a query that outlives it.
            var deadline = i % 5 == 4 ? TimeSpan.FromMilliseconds(200) : Bound;
            await using var scope = host.Factory.CreateScope(new UserExecutionContext("user-" + i), deadline);
            try
            {
                await using var session = await scope.OpenSessionAsync<NpgsqlConnection>(scope.Aborted);
                var db = session.AsDbConnection();
                switch (i % 5)
                {
                    case 0:
                        await db.ExecuteAsync("SELECT * FROM a_table_that_does_not_exist");
                        return "unexpected";
                    case 1:
                        await using (var transaction = await db.BeginTransactionAsync(scope.Aborted))
                        {
                            await db.ExecuteAsync("SET LOCAL statement_timeout = 50", transaction: transaction);
                            await db.ExecuteAsync("SELECT pg_sleep(30)", transaction: transaction);
                        }

                        return "unexpected";
                    case 4:
                        await db.ExecuteAsync(new CommandDefinition("SELECT pg_sleep(30)", cancellationToken: scope.Aborted));
                        return "unexpected";
                    default:
                        return "ok " + await db.ExecuteScalarAsync<int>("SELECT @i", new { i });
                }
            }
            catch (PostgresException ex)
            {
                return "db error " + ex.SqlState;
            }
            catch (OperationCanceledException) when (scope.DeadlineExceeded)
            {
                return "deadline";
            }
        }

        var requests = new Task<string>[Requests];
        for (var i = 0; i < Requests; i++)
        {
            var n = i;
            requests[i] = Task.Run(() => RequestAsync(n), Ct);
        }

        var results = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(120), Ct);

        for (var i = 0; i < Requests; i++)
        {
            var expected = (i % 5) switch
            {
                0 => "db error 42P01",
                1 => "db error 57014",
                4 => "deadline",
                _ => "ok " + i,
            };
            Assert.Equal(expected, results[i]);
        }

        var pool = host.Pool<NpgsqlConnection>();
        Assert.Equal(0, pool.Held);
        Assert.Equal(0, pool.Timeouts);
        Assert.Equal(0, host.Monitor.TotalViolations);
        Assert.Equal(0, await PostgresTestDatabase.CountBackendsAsync(admin, app, "active,idle in transaction,idle in transaction (aborted)", Ct));
        NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
    }

    [Fact]
    public async Task ExecuteAsync_FromAnotherScopeOnRealConnection_ThrowsAndNothingRuns()
    {
        var app = PostgresTestDatabase.UniqueName("iso_cross");
        var table = PostgresTestDatabase.UniqueName("iso_notes");
        var connectionString = PostgresTestDatabase.ConnectionString(app, pooling: false);
        await using var admin = await PostgresTestDatabase.OpenAdminAsync(Ct);
        await admin.ExecuteAsync($"CREATE TABLE {table} (id serial PRIMARY KEY, user_id text NOT NULL)");
        await using var host = NpgsqlHost(connectionString, IsolationMode.Enforce, o => o.MaxSessions = 2);

        try
        {
            await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
            await using var session = await alice.OpenSessionAsync<NpgsqlConnection>(alice.Aborted);
            var db = session.AsDbConnection();
            await db.ExecuteAsync($"INSERT INTO {table} (user_id) VALUES ('alice')");

            // Bob's request got hold of Alice's connection (say, through a cache) and tries to use it.
            var exception = await Task.Run(
                async () =>
                {
                    await using var bob = host.Factory.CreateScope(new UserExecutionContext("bob"));
                    return await Assert.ThrowsAsync<IsolationViolationException>(
                        () => db.ExecuteAsync($"INSERT INTO {table} (user_id) VALUES ('bob')"));
                },
                Ct);

            Assert.Equal(ViolationKind.CrossScopeAccess, exception.Kind);
            Assert.Equal("alice", exception.Violation!.Context!.UserId);
            Assert.Equal("bob", exception.Violation.OtherContext!.UserId);
            Assert.Equal(["alice"], await admin.QueryAsync<string>($"SELECT user_id FROM {table} ORDER BY id"));
        }
        finally
        {
            await admin.ExecuteAsync($"DROP TABLE IF EXISTS {table}");
        }
    }

    [Fact]
    public async Task ExecuteScalarAsync_WhileAnotherFlowRunsACommandOnRealConnection_ThrowsConcurrentUse()
    {
        var app = PostgresTestDatabase.UniqueName("iso_conc");
        var connectionString = PostgresTestDatabase.ConnectionString(app, pooling: false);
        var lockKey = Random.Shared.NextInt64(1, long.MaxValue);
        await using var admin = await PostgresTestDatabase.OpenAdminAsync(Ct);
        await using var host = NpgsqlHost(connectionString, IsolationMode.Enforce, o => o.MaxSessions = 2);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var session = await scope.OpenSessionAsync<NpgsqlConnection>(scope.Aborted);
        var db = session.AsDbConnection();

        // The admin connection holds an advisory lock, so the first command stays in progress on the server until released.
        await admin.ExecuteAsync("SELECT pg_advisory_lock(@lockKey)", new { lockKey });
        Task<object?> blocked;
        await using (var first = db.CreateCommand())
        {
            first.CommandText = "SELECT pg_advisory_xact_lock(@k)::text";
            var parameter = first.CreateParameter();
            parameter.ParameterName = "k";
            parameter.Value = lockKey;
            first.Parameters.Add(parameter);
            blocked = first.ExecuteScalarAsync(Ct);

            var exception = await Task.Run(
                () => Assert.ThrowsAsync<IsolationViolationException>(() => db.ExecuteScalarAsync<int>("SELECT 1")),
                Ct);

            Assert.Equal(ViolationKind.ConcurrentUse, exception.Kind);
            Assert.False(blocked.IsCompleted);
            await admin.ExecuteAsync("SELECT pg_advisory_unlock(@lockKey)", new { lockKey });
            await blocked.WaitAsync(Bound, Ct);
        }

        // The first command finished: the session is usable again.
        Assert.Equal(1, await db.ExecuteScalarAsync<int>("SELECT 1"));
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.ConcurrentUse));
    }

    [Fact]
    public async Task OpenSessionAsync_PoolHeldByOtherRequests_FailsWithinAcquireTimeoutInsteadOfHanging()
    {
        var app = PostgresTestDatabase.UniqueName("iso_exhaust");
        var connectionString = PostgresTestDatabase.ConnectionString(app, pooling: false);
        await using var host = NpgsqlHost(connectionString, IsolationMode.Enforce, o =>
        {
            o.MaxSessions = 1;
            o.AcquireTimeout = TimeSpan.FromMilliseconds(300);
        });
        await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var held = await alice.OpenSessionAsync<NpgsqlConnection>(alice.Aborted);

        var exception = await Task.Run(
            async () =>
            {
                await using var bob = host.Factory.CreateScope(new UserExecutionContext("bob"));
                return await Assert.ThrowsAsync<SessionPoolExhaustedException>(
                    async () => await bob.OpenSessionAsync<NpgsqlConnection>(bob.Aborted).AsTask().WaitAsync(Bound, Ct));
            },
            Ct);

        Assert.Equal(1, exception.MaxSessions);
        Assert.Equal(1, exception.HeldSessions);
        Assert.Equal("Npgsql.NpgsqlConnection", exception.PoolName);
        Assert.Equal(1, await held.AsDbConnection().ExecuteScalarAsync<int>("SELECT 1"));
    }

    private static SessionTestHost NpgsqlHost(string connectionString, IsolationMode mode, Action<IsolatedSessionOptions> configure) =>
        SessionTestHost.Create<NpgsqlConnection>(
            async (_, cancellationToken) =>
            {
                var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                return connection;
            },
            mode,
            configure);

    private static async Task FailMidTransactionAsync(System.Data.Common.DbConnection db, string table, TaskCompletionSource<long>? inTransaction)
    {
        var transaction = await db.BeginTransactionAsync(Ct);
        await db.ExecuteAsync($"INSERT INTO {table} (user_id, text) VALUES ('u', 'half done')", transaction: transaction);
        if (inTransaction is not null)
        {
            var open = await db.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid() AND xact_start IS NOT NULL", transaction: transaction);
            inTransaction.SetResult(open);
        }

        throw new InvalidOperationException("The model call failed in the middle of the transaction.");
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
