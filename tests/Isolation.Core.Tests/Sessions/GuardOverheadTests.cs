using System.Data.Common;
using System.Diagnostics;
using Isolation.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Isolation.Tests.Sessions;

/// <summary>
/// A first, quick measurement of what the guard costs per command (SQLite in memory, guarded against raw). Timings are
/// printed, not asserted, apart from a generous ratio bound; allocations are asserted exactly.
/// </summary>
public sealed class GuardOverheadTests
{
    private const int Operations = 20_000;
    private const int Rounds = 7;

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
    public async Task ExecuteScalar_GuardedAgainstRaw_AddsNoAllocationAndLittleTime()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        DbConnection raw = guard.Session;
        DbConnection guarded = guard.AsDbConnection();
        await using var rawCommand = Prepare(raw);
        await using var guardedCommand = Prepare(guarded);

        // Warm up past tiered compilation, so both paths are measured as optimized code.
        double rawBest = double.MaxValue, guardedBest = double.MaxValue;
        for (var round = 0; round < Rounds * 2; round++)
        {
            var rawTime = NanosecondsPerOperation(rawCommand);
            var guardedTime = NanosecondsPerOperation(guardedCommand);
            if (round >= Rounds)
            {
                rawBest = Math.Min(rawBest, rawTime);
                guardedBest = Math.Min(guardedBest, guardedTime);
            }
        }

        var rawBytes = AllocatedPerOperation(rawCommand);
        var guardedBytes = AllocatedPerOperation(guardedCommand);
        var rawAsyncBytes = await AllocatedPerOperationAsync(rawCommand);
        var guardedAsyncBytes = await AllocatedPerOperationAsync(guardedCommand);

        double rawAsyncBest = double.MaxValue, guardedAsyncBest = double.MaxValue;
        for (var round = 0; round < Rounds; round++)
        {
            rawAsyncBest = Math.Min(rawAsyncBest, await NanosecondsPerOperationAsync(rawCommand));
            guardedAsyncBest = Math.Min(guardedAsyncBest, await NanosecondsPerOperationAsync(guardedCommand));
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"SQLite in-memory 'SELECT 1', best of {Rounds} x {Operations}: ExecuteScalar raw {rawBest:0} ns, guarded {guardedBest:0} ns (+{guardedBest - rawBest:0} ns); " +
            $"ExecuteScalarAsync raw {rawAsyncBest:0} ns, guarded {guardedAsyncBest:0} ns (+{guardedAsyncBest - rawAsyncBest:0} ns); " +
            $"allocated per command raw {rawBytes:0.#} B, guarded {guardedBytes:0.#} B (async: raw {rawAsyncBytes:0.#} B, guarded {guardedAsyncBytes:0.#} B)");

        Assert.Equal(rawBytes, guardedBytes, 1.0);
        Assert.Equal(rawAsyncBytes, guardedAsyncBytes, 1.0);
        Assert.InRange(guardedBest / rawBest, 0, 3);
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    private static DbCommand Prepare(DbConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        command.Prepare();
        return command;
    }

    private static long Run(DbCommand command, int operations)
    {
        long sum = 0;
        for (var i = 0; i < operations; i++)
        {
            sum += (long)command.ExecuteScalar()!;
        }

        Assert.Equal(operations, sum);
        return sum;
    }

    private static double AllocatedPerOperation(DbCommand command)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(command, Operations);
        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Operations;
    }

    private static async Task<double> AllocatedPerOperationAsync(DbCommand command)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        await NanosecondsPerOperationAsync(command);
        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Operations;
    }

    private static double NanosecondsPerOperation(DbCommand command)
    {
        var start = Stopwatch.GetTimestamp();
        Run(command, Operations);
        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / Operations;
    }

    private static async Task<double> NanosecondsPerOperationAsync(DbCommand command)
    {
        long sum = 0;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Operations; i++)
        {
            sum += (long)(await command.ExecuteScalarAsync(Ct))!;
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        Assert.Equal(Operations, sum);
        return elapsed.TotalNanoseconds / Operations;
    }
}
