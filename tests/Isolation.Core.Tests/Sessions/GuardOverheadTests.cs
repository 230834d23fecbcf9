using System.Data.Common;
using Isolation.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Isolation.Tests.Sessions;

/// <summary>
/// What the guard adds to each command, measured deterministically: allocations counted on the calling thread around
/// synchronous loops (nothing awaits, so no continuation moves to another thread). The guarded commands wrap
/// <see cref="ConstantDbConnection"/>, whose commands allocate nothing, so any byte counted is the guard's. Comparing
/// against a real provider's own allocations is not deterministic: how much SQLite's code allocates per command depends on
/// how the JIT optimised it at that moment (dynamic PGO, inlining, stack allocation), which other tests in the same process
/// change. Timing against the raw connection is the <c>SessionGuardBenchmark</c>'s job (goal: at most 3x, no extra bytes).
/// </summary>
public sealed class GuardOverheadTests
{
    private const int Operations = 20_000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Enter_AndDispose_AllocateNothing()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        for (var i = 0; i < 1_000; i++)
        {
            using var warm = guard.Enter();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Operations; i++)
        {
            using var access = guard.Enter();
            _ = guard.Session;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task ExecuteScalar_GuardedProviderAllocatingNothing_AllocatesNothing()
    {
        await using var host = ConstantHost();
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<ConstantDbConnection>(Ct);
        await using var command = guard.AsDbConnection().CreateCommand();
        command.CommandText = "SELECT 1";

        var bytes = AllocatedBytes(() =>
        {
            long sum = 0;
            for (var i = 0; i < Operations; i++)
            {
                sum += (long)command.ExecuteScalar()!;
                sum += command.ExecuteNonQuery();
            }

            return sum;
        });

        Assert.Equal(0, bytes);
        Assert.Equal(2 * 2 * Operations, guard.Session.Executions); // warm-up and measured loop, two commands each
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task ExecuteScalarAsync_GuardedCompletedProviderTask_ReturnedAsItIsAndAllocatesNothing()
    {
        await using var host = ConstantHost();
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<ConstantDbConnection>(Ct);
        await using var command = guard.AsDbConnection().CreateCommand();
        command.CommandText = "SELECT 1";

        // The provider's task, completed, comes back unchanged: no wrapper task, no state machine.
        Assert.Same(command.ExecuteScalarAsync(Ct), command.ExecuteScalarAsync(Ct));

        var bytes = AllocatedBytes(() =>
        {
            long sum = 0;
            for (var i = 0; i < Operations; i++)
            {
                var scalar = command.ExecuteScalarAsync(Ct);
                var rows = command.ExecuteNonQueryAsync(Ct);
                Assert.True(scalar.IsCompletedSuccessfully && rows.IsCompletedSuccessfully);
                sum += (long)scalar.Result! + rows.Result;
            }

            return sum;
        });

        Assert.Equal(0, bytes);

        // The guard was entered and left around every call: entering now succeeds, so no access was left open.
        using (guard.Enter())
        {
        }

        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task ExecuteScalar_GuardedSqlite_SameResultsAsRawAndNoViolation()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        await using var raw = Prepare(guard.Session);
        await using var guarded = Prepare(guard.AsDbConnection());

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(raw.ExecuteScalar(), guarded.ExecuteScalar());
            Assert.Equal(await raw.ExecuteScalarAsync(Ct), await guarded.ExecuteScalarAsync(Ct));
        }

        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    private static SessionTestHost ConstantHost() =>
        SessionTestHost.Create((_, _) => ValueTask.FromResult(new ConstantDbConnection()), IsolationMode.Enforce);

    /// <summary>Runs <paramref name="loop"/> once to warm up, then counts what a second run allocates on this thread.</summary>
    private static long AllocatedBytes(Func<long> loop)
    {
        _ = loop();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var sum = loop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2L * Operations, sum);
        return allocated;
    }

    private static DbCommand Prepare(DbConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        command.Prepare();
        return command;
    }
}
