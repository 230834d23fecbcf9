using Isolation.EntityFrameworkCore.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.EntityFrameworkCore.Tests.Pooling;

/// <summary>Pooled contexts returned dirty in each way: reported as session_leak and never leased again.</summary>
public sealed class PooledContextTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public enum Dirt
    {
        UnsavedChanges,
        OpenTransaction,
        QueryTrackingBehavior,
        AutoDetectChanges,
        CommandTimeout,
        TenantState,
        PristineCheck,
    }

    private static readonly Dictionary<Dirt, string> Reasons = new()
    {
        [Dirt.UnsavedChanges] = "unsaved changes",
        [Dirt.OpenTransaction] = "a transaction is still open",
        [Dirt.QueryTrackingBehavior] = "QueryTrackingBehavior is NoTracking, configured TrackAll",
        [Dirt.AutoDetectChanges] = "AutoDetectChangesEnabled is false",
        [Dirt.CommandTimeout] = "the command timeout is 99",
        [Dirt.TenantState] = "[TenantState] TenantId was not reset",
        [Dirt.PristineCheck] = "search filter left set",
    };

    private static async Task Soil(NotesDb db, Dirt dirt)
    {
        switch (dirt)
        {
            case Dirt.UnsavedChanges:
                db.Notes.Add(new Note { Tenant = "tenant-0", Text = "never saved" });
                break;
            case Dirt.OpenTransaction:
                await db.Database.BeginTransactionAsync(Ct);
                break;
            case Dirt.QueryTrackingBehavior:
                db.ChangeTracker.QueryTrackingBehavior = QueryTrackingBehavior.NoTracking;
                break;
            case Dirt.AutoDetectChanges:
                db.ChangeTracker.AutoDetectChangesEnabled = false;
                break;
            case Dirt.CommandTimeout:
                db.Database.SetCommandTimeout(99);
                break;
            case Dirt.TenantState:
                db.TenantId = "tenant-1";
                break;
            case Dirt.PristineCheck:
                SearchFilter.Set(db, "left over");
                break;
        }
    }

    [Theory]
    [InlineData(Registration.AddDbContextPool, Dirt.UnsavedChanges)]
    [InlineData(Registration.AddDbContextPool, Dirt.OpenTransaction)]
    [InlineData(Registration.AddDbContextPool, Dirt.QueryTrackingBehavior)]
    [InlineData(Registration.AddDbContextPool, Dirt.AutoDetectChanges)]
    [InlineData(Registration.AddDbContextPool, Dirt.CommandTimeout)]
    [InlineData(Registration.AddDbContextPool, Dirt.TenantState)]
    [InlineData(Registration.AddDbContextPool, Dirt.PristineCheck)]
    [InlineData(Registration.AddPooledDbContextFactory, Dirt.UnsavedChanges)]
    [InlineData(Registration.AddPooledDbContextFactory, Dirt.OpenTransaction)]
    [InlineData(Registration.AddPooledDbContextFactory, Dirt.QueryTrackingBehavior)]
    [InlineData(Registration.AddPooledDbContextFactory, Dirt.TenantState)]
    public async Task Return_Dirty_ReportedAsSessionLeakAndDiscarded(Registration registration, Dirt dirt)
    {
        await using var host = await EfTestHost.CreateAsync(registration, poolSize: 1, isolation: SearchFilter.Check);
        NotesDb first;
        string ownerRun;
        await using (var scope = host.Scope("alice"))
        {
            ownerRun = scope.Context.RunId;
            first = host.Context(scope);
            Assert.Equal(12, await first.Notes.CountAsync(Ct));
            await Soil(first, dirt);
            if (registration == Registration.AddPooledDbContextFactory)
            {
                await first.DisposeAsync();
            }
        }

        var violation = Assert.Single(host.Violations);
        Assert.Equal(ViolationKind.SessionLeak, violation.Kind);
        Assert.Contains(Reasons[dirt], violation.Message, StringComparison.Ordinal);
        Assert.Contains(ownerRun, violation.Message, StringComparison.Ordinal);
        Assert.Contains("It is discarded", violation.Message, StringComparison.Ordinal);
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.SessionLeak));

        // The pool holds one context: the next request gets a new, pristine one instead of the dirty instance.
        await using (var scope = host.Scope("bob"))
        {
            var next = host.Context(scope);
            Assert.NotSame(first, next);
            Assert.Null(next.TenantId);
            Assert.Equal(QueryTrackingBehavior.TrackAll, next.ChangeTracker.QueryTrackingBehavior);
            Assert.Equal(12, await next.Notes.CountAsync(Ct));
            if (registration == Registration.AddPooledDbContextFactory)
            {
                await next.DisposeAsync();
            }
        }

        Assert.Single(host.Violations);
    }

    [Theory]
    [InlineData(Registration.AddDbContextPool)]
    [InlineData(Registration.AddPooledDbContextFactory)]
    public async Task Return_Clean_LeasedAgainAndNothingReported(Registration registration)
    {
        await using var host = await EfTestHost.CreateAsync(registration, poolSize: 1, isolation: SearchFilter.Check);
        NotesDb? previous = null;
        for (var i = 0; i < 3; i++)
        {
            await using var scope = host.Scope("user-" + i);
            var db = host.Context(scope);
            if (previous is not null)
            {
                Assert.Same(previous, db);
            }

            // Tenant state set for the request and reset before it ends; tracked entities from queries are fine.
            db.TenantId = EfTestHost.Tenant(i);
            Assert.Equal(3, (await db.Notes.ToListAsync(Ct)).Count);
            db.TenantId = null;
            previous = db;
            if (registration == Registration.AddPooledDbContextFactory)
            {
                await db.DisposeAsync();
            }
        }

        Assert.Empty(host.Violations);
    }

    [Fact]
    public async Task Return_TrackedEntitiesWithRequireEmptyChangeTracker_Dirty()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool, poolSize: 1, isolation: o => o.RequireEmptyChangeTracker = true);
        await using (var scope = host.Scope("alice"))
        {
            Assert.Equal(12, (await host.Context(scope).Notes.ToListAsync(Ct)).Count);
        }

        var violation = Assert.Single(host.Violations);
        Assert.Contains("the change tracker still tracks 12 entities", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Return_DirtyWithoutAddPooledDbContextChecks_ReportedSayingHowToDiscard()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool, poolSize: 1, poolChecks: false);
        NotesDb first;
        await using (var scope = host.Scope("alice"))
        {
            first = host.Context(scope);
            Assert.Equal(12, await first.Notes.CountAsync(Ct));
            first.TenantId = "tenant-1";
        }

        var violation = Assert.Single(host.Violations);
        Assert.Contains("AddPooledDbContextChecks<NotesDb>()", violation.Message, StringComparison.Ordinal);
        await using (var scope = host.Scope("bob"))
        {
            // EF Core leases the same instance again, with the previous request's tenant id: the bug the checks exist for.
            var next = host.Context(scope);
            Assert.Same(first, next);
            Assert.Equal("tenant-1", next.TenantId);
        }
    }

    [Fact]
    public async Task Return_DirtyInModeOff_NotReportedNotDiscarded()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool, IsolationMode.Off, poolSize: 1);
        NotesDb first;
        await using (var scope = host.Scope("alice"))
        {
            first = host.Context(scope);
            Assert.Equal(12, await first.Notes.CountAsync(Ct));
            first.TenantId = "tenant-1";
        }

        await using (var scope = host.Scope("bob"))
        {
            Assert.Same(first, host.Context(scope));
        }

        Assert.Empty(host.Violations);
    }

    [Fact]
    public void AddPooledDbContextChecks_WithoutAPool_ThrowsNamingTheFix()
    {
        var services = new ServiceCollection();
        var ex = Assert.Throws<InvalidOperationException>(() => services.AddPooledDbContextChecks<NotesDb>());
        Assert.Contains("AddDbContextPool<NotesDb>", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPooledDbContextChecks_CalledTwice_OnePoolDecorator()
    {
        var services = new ServiceCollection();
        services.AddDbContextPool<NotesDb>(o => o.UseSqlite("Data Source=:memory:").UseIsolation());
        services.AddPooledDbContextChecks<NotesDb>().AddPooledDbContextChecks<NotesDb>();
        using var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<NotesDb>());
    }

    [Fact]
    public void AddPooledDbContextChecks_OptionsWithoutUseIsolation_ThrowsAtFirstLeaseNamingTheFix()
    {
        var services = new ServiceCollection();
        services.AddDbContextPool<NotesDb>(o => o.UseSqlite("Data Source=:memory:"));
        services.AddPooledDbContextChecks<NotesDb>();
        using var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();
        var ex = Assert.Throws<InvalidOperationException>(() => scope.ServiceProvider.GetRequiredService<NotesDb>());
        Assert.Contains("UseIsolation()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TenantState_OnAnIndexer_FirstOperationThrowsNamingTheMember()
    {
        var services = new ServiceCollection();
        services.AddIsolation();
        services.AddDbContextPool<BadTenantStateDb>(o => o.UseSqlite("Data Source=:memory:").UseIsolation());
        using var provider = services.BuildServiceProvider();
        var scope = provider.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BadTenantStateDb>();
        var ex = Assert.Throws<InvalidOperationException>(() => db.Database.ExecuteSqlRaw("SELECT 1"));
        Assert.Throws<InvalidOperationException>(() => db.Database.ExecuteSqlRaw("SELECT 1"));
        scope.Dispose();
        Assert.Contains("[TenantState] on", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Item", ex.Message, StringComparison.Ordinal);
    }

    public sealed class BadTenantStateDb(DbContextOptions<BadTenantStateDb> options) : DbContext(options)
    {
        [TenantState]
        public string this[int i] => "x";
    }
}

/// <summary>Tenant state kept outside the context (here: a table keyed by context), checked by an AddPristineCheck callback.</summary>
internal static class SearchFilter
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<DbContext, string> Filters = new();

    public static void Set(DbContext db, string filter) => Filters.AddOrUpdate(db, filter);

    public static void Check(IsolationDbContextOptions options)
        => options.AddPristineCheck(db => Filters.TryGetValue(db, out _) ? "search filter left set" : null);
}
