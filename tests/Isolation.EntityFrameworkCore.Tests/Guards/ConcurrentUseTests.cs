using Isolation.EntityFrameworkCore.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace Isolation.EntityFrameworkCore.Tests.Guards;

/// <summary>Two flows on one context, made to overlap for certain by holding the first flow's command inside its execution.</summary>
public sealed class ConcurrentUseTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BeginTransaction_WhileAnotherFlowRunsACommandInEnforce_ThrowsConcurrentUse()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool);
        await using var scope = host.Scope("alice");
        var db = host.Context(scope);
        Assert.Equal(12, await db.Notes.CountAsync(Ct));

        host.Blocker.Arm();
        var first = db.Notes.ToListAsync(Ct);
        await host.Blocker.Entered.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        // EF Core's concurrency detector does not cover transactions: without the guard this would start a transaction
        // under the running query.
        var ex = await Assert.ThrowsAsync<IsolationViolationException>(() => db.Database.BeginTransactionAsync(Ct));
        host.Blocker.Release();
        Assert.Equal(12, (await first).Count);

        Assert.Equal(ViolationKind.ConcurrentUse, ex.Kind);
        Assert.Contains("BeginTransaction", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ExecuteReader", ex.Message, StringComparison.Ordinal);
        Assert.Contains(scope.Context.RunId, ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, scope.ViolationCount);

        // The busy mark went with the first command: the context works normally afterwards.
        await using (var transaction = await db.Database.BeginTransactionAsync(Ct))
        {
            await transaction.CommitAsync(Ct);
        }

        Assert.Equal(1, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task Commit_WhileAnotherFlowRunsACommandInObserve_ReportedAndTheCommandLosesItsTransaction()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool, IsolationMode.Observe);
        await using var scope = host.Scope("alice");
        var db = host.Context(scope);
        var transaction = await db.Database.BeginTransactionAsync(Ct);
        db.Notes.Add(new Note { Tenant = "tenant-0", Text = "in transaction" });
        await db.SaveChangesAsync(Ct);

        host.Blocker.Arm();
        var first = db.Notes.ToListAsync(Ct);
        await host.Blocker.Entered.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var commit = transaction.CommitAsync(Ct);
        host.Blocker.Release();
        await commit;

        // Observe lets the commit through; the query that was running inside the transaction then finds it gone.
        await Assert.ThrowsAsync<InvalidOperationException>(() => first);
        await transaction.DisposeAsync();

        var violation = Assert.Single(host.Violations);
        Assert.Equal(ViolationKind.ConcurrentUse, violation.Kind);
        Assert.Contains("(Commit)", violation.Message, StringComparison.Ordinal);
        Assert.Equal(1, scope.ViolationCount);
    }

    [Fact]
    public async Task Query_TwoFlowsWithEfThreadSafetyChecksOff_ReportsConcurrentUse()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool, IsolationMode.Observe, threadSafetyChecks: false);
        await using var scope = host.Scope("alice");
        var db = host.Context(scope);
        Assert.Equal(12, await db.Notes.CountAsync(Ct));

        host.Blocker.Arm();
        var first = db.Notes.ToListAsync(Ct);
        await host.Blocker.Entered.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var second = await db.Notes.AsNoTracking().CountAsync(Ct);
        host.Blocker.Release();
        await first;

        Assert.Equal(12, second);
        var violation = Assert.Single(host.Violations);
        Assert.Equal(ViolationKind.ConcurrentUse, violation.Kind);
    }

    [Fact]
    public async Task Query_SequentialFlowsAwaitingEachOther_ReportNothing()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool);
        await using var scope = host.Scope("alice");
        var db = host.Context(scope);
        for (var i = 0; i < 5; i++)
        {
            await Task.Run(() => db.Notes.CountAsync(Ct), Ct);
            await using var transaction = await db.Database.BeginTransactionAsync(Ct);
            await transaction.RollbackAsync(Ct);
        }

        Assert.Empty(host.Violations);
    }
}
