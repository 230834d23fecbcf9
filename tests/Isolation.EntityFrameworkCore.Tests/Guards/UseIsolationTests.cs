using Isolation.EntityFrameworkCore.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.EntityFrameworkCore.Tests.Guards;

/// <summary>The scope checks of <c>UseIsolation()</c> on real SQLite: binding, other users, ended scopes, no scope, modes.</summary>
public sealed class UseIsolationTests
{
    private const string SecretParameter = "secret-parameter-7f3a";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(Registration.AddDbContext)]
    [InlineData(Registration.AddDbContextPool)]
    [InlineData(Registration.AddDbContextFactory)]
    [InlineData(Registration.AddPooledDbContextFactory)]
    public async Task UseIsolation_CleanRequestWithQuerySaveAndTransaction_ReportsNothing(Registration registration)
    {
        await using var host = await EfTestHost.CreateAsync(registration);
        for (var i = 0; i < 3; i++)
        {
            await using var scope = host.Scope("user-" + i);
            await using var db = host.Context(scope);
            Assert.Equal(12 + (2 * i), await db.Notes.CountAsync(Ct));
            await using (var transaction = await db.Database.BeginTransactionAsync(Ct))
            {
                db.Notes.Add(new Note { Tenant = "tenant-0", Text = "added" });
                await db.SaveChangesAsync(Ct);
                await transaction.CommitAsync(Ct);
            }

            db.Notes.Add(new Note { Tenant = "tenant-1", Text = "added" });
            await db.SaveChangesAsync(Ct);
            Assert.Equal(0, scope.ViolationCount);
        }

        Assert.Empty(host.Violations);
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Theory]
    [InlineData(Registration.AddDbContext)]
    [InlineData(Registration.AddDbContextPool)]
    [InlineData(Registration.AddDbContextFactory)]
    [InlineData(Registration.AddPooledDbContextFactory)]
    public async Task Query_FromAnotherUsersScopeInEnforce_ThrowsCrossScopeAccessNamingTheOwnerRun(Registration registration)
    {
        await using var host = await EfTestHost.CreateAsync(registration);
        await using var alice = host.Scope("alice");
        var db = host.Context(alice);
        Assert.Equal(3, await db.Notes.CountAsync(n => n.Tenant == "tenant-0", Ct));

        await using var bob = host.Scope("bob");
        var ex = await Assert.ThrowsAsync<IsolationViolationException>(() => db.Notes.Where(n => n.Text == SecretParameter).ToListAsync(Ct));

        Assert.Equal(ViolationKind.CrossScopeAccess, ex.Kind);
        Assert.Contains(alice.Context.RunId, ex.Message, StringComparison.Ordinal);
        Assert.Contains(bob.Context.RunId, ex.Message, StringComparison.Ordinal);
        Assert.Contains(typeof(NotesDb).FullName!, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretParameter, ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, bob.ViolationCount);
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.CrossScopeAccess));
        Assert.Equal(alice.Context, ex.Violation!.Context);
        Assert.Equal(bob.Context, ex.Violation.OtherContext);
        if (registration is Registration.AddDbContextFactory or Registration.AddPooledDbContextFactory)
        {
            await db.DisposeAsync();
        }
    }

    [Fact]
    public async Task SaveChanges_FromAnotherUsersScopeInObserve_ProceedsReportedAndCounted()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextFactory, IsolationMode.Observe);
        await using var alice = host.Scope("alice");
        await using var db = host.Context(alice);
        Assert.Equal(12, await db.Notes.CountAsync(Ct));

        await using var bob = host.Scope("bob");
        db.Notes.Add(new Note { Tenant = "tenant-0", Text = SecretParameter });
        Assert.Equal(1, await db.SaveChangesAsync(Ct));

        // SaveChanges, then its INSERT command: each operation from the wrong scope is one violation.
        Assert.True(bob.ViolationCount >= 2);
        Assert.Equal(0, alice.ViolationCount);
        Assert.All(host.Violations, v =>
        {
            Assert.Equal(ViolationKind.CrossScopeAccess, v.Kind);
            Assert.DoesNotContain(SecretParameter, v.Message, StringComparison.Ordinal);
        });
        Assert.Contains(host.Violations, v => v.Message.Contains("(SaveChanges)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Query_FromAnotherUsersScopeInOff_ReportsNothing()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextFactory, IsolationMode.Off);
        await using var alice = host.Scope("alice");
        await using var db = host.Context(alice);
        Assert.Equal(12, await db.Notes.CountAsync(Ct));
        await using var bob = host.Scope("bob");
        Assert.Equal(12, await db.Notes.CountAsync(Ct));
        await db.Database.BeginTransactionAsync(Ct);

        Assert.Empty(host.Violations);
        Assert.Equal(0, bob.ViolationCount);
    }

    [Fact]
    public async Task Query_LeakedContextUsedAfterItsScopeEnded_ThrowsUseAfterDisposeInTheNextScope()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextFactory);
        NotesDb leaked;
        string aliceRun;
        await using (var alice = host.Scope("alice"))
        {
            aliceRun = alice.Context.RunId;
            leaked = host.Context(alice);
            Assert.Equal(12, await leaked.Notes.CountAsync(Ct));
        }

        await using (var bob = host.Scope("bob"))
        {
            var ex = await Assert.ThrowsAsync<IsolationViolationException>(() => leaked.Notes.ToListAsync(Ct));
            Assert.Equal(ViolationKind.UseAfterDispose, ex.Kind);
            Assert.Contains(aliceRun, ex.Message, StringComparison.Ordinal);
            Assert.Contains("after that scope ended", ex.Message, StringComparison.Ordinal);
            Assert.Equal(1, bob.ViolationCount);
        }

        // Outside any scope nothing can throw: the monitor counts it.
        Assert.Equal(12, await leaked.Notes.CountAsync(Ct));
        Assert.Equal(2, host.Monitor.GetViolationCount(ViolationKind.UseAfterDispose));
        await leaked.DisposeAsync();
    }

    [Fact]
    public async Task Query_OutsideAnyScope_ReportedOncePerLease()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddPooledDbContextFactory);
        var factory = host.Provider.GetRequiredService<IDbContextFactory<NotesDb>>();
        await using (var db = await factory.CreateDbContextAsync(Ct))
        {
            Assert.Equal(12, await db.Notes.CountAsync(Ct));
            Assert.Equal(12, await db.Notes.CountAsync(Ct));
        }

        var violation = Assert.Single(host.Violations);
        Assert.Equal(ViolationKind.CrossScopeAccess, violation.Kind);
        Assert.Contains("outside any isolation scope", violation.Message, StringComparison.Ordinal);
        Assert.Null(violation.Context);

        await using (var db = await factory.CreateDbContextAsync(Ct))
        {
            Assert.Equal(12, await db.Notes.CountAsync(Ct));
        }

        Assert.Equal(2, host.Violations.Count);
    }

    [Fact]
    public async Task Query_FromBackgroundWorkOutsideAnyScopeWhileOwnerLive_ReportedAgainstTheOwner()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextFactory, IsolationMode.Observe);
        await using var alice = host.Scope("alice");
        await using var db = host.Context(alice);
        Assert.Equal(12, await db.Notes.CountAsync(Ct));

        Task<int> background;
        using (ExecutionContext.SuppressFlow())
        {
            background = Task.Run(() => db.Notes.CountAsync());
        }

        Assert.Equal(12, await background);
        Assert.Equal(1, alice.ViolationCount);
        var violation = Assert.Single(host.Violations);
        Assert.Equal(ViolationKind.CrossScopeAccess, violation.Kind);
        Assert.Contains("outside any scope", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TagCommandsWithRunId_On_EveryCommandStartsWithTheRunIdComment()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool, isolation: o => o.TagCommandsWithRunId = true);
        await using var scope = host.Scope("alice");
        var db = host.Context(scope);
        Assert.Equal(12, await db.Notes.CountAsync(Ct));
        db.Notes.Add(new Note { Tenant = "tenant-0", Text = "x" });
        await db.SaveChangesAsync(Ct);

        Assert.NotEmpty(host.Recorder.Commands);
        Assert.All(host.Recorder.Commands, c => Assert.StartsWith("-- isolation.run_id: " + scope.Context.RunId + "\n", c, StringComparison.Ordinal));
        Assert.All(host.Recorder.Commands, c => Assert.DoesNotContain("alice", c, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TagCommandsWithRunId_Default_CommandsAreUntouched()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool);
        await using var scope = host.Scope("alice");
        Assert.Equal(12, await host.Context(scope).Notes.CountAsync(Ct));

        Assert.All(host.Recorder.Commands, c => Assert.DoesNotContain("isolation.run_id", c, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TagCommandsWithRunId_RunIdWithUnsafeCharacters_NotWritten()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool, isolation: o => o.TagCommandsWithRunId = true);
        await using var scope = host.Scopes.CreateScope(new UserExecutionContext("alice", runId: "run */ ; DROP TABLE Notes"));
        Assert.Equal(12, await host.Context(scope).Notes.CountAsync(Ct));

        Assert.All(host.Recorder.Commands, c => Assert.DoesNotContain("isolation.run_id", c, StringComparison.Ordinal));
    }

    [Fact]
    public void UsePostgresRowLevelSecurity_BadSettingName_ThrowsSayingWhatAGoodOneIs()
    {
        var options = new IsolationDbContextOptions();
        var ex = Assert.Throws<ArgumentException>(() => options.UsePostgresRowLevelSecurity("user_id'; --"));
        Assert.Contains("app.user_id", ex.Message, StringComparison.Ordinal);
        Assert.Null(options.RowLevelSecuritySetting);
        Assert.Equal("app.user_id", options.UsePostgresRowLevelSecurity().RowLevelSecuritySetting);
    }

    [Fact]
    public void UseIsolation_CalledTwice_KeepsTheEarlierOptionsAndAppliesTheNewOnes()
    {
        var builder = new DbContextOptionsBuilder<NotesDb>().UseSqlite("Data Source=:memory:");
        IsolationDbContextOptions? seen = null;
        builder.UseIsolation(o => o.TagCommandsWithRunId = true);
        builder.UseIsolation(o =>
        {
            o.UsePostgresRowLevelSecurity("tenant.id");
            seen = o;
        });

        Assert.NotNull(seen);
        Assert.True(seen.TagCommandsWithRunId);
        Assert.Equal("tenant.id", seen.RowLevelSecuritySetting);
        Assert.Contains(builder.Options.Extensions, e => e.Info.LogFragment.Contains("UseIsolation", StringComparison.Ordinal));
    }
}
