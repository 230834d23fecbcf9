using System.Collections.Concurrent;
using Isolation.EntityFrameworkCore.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.EntityFrameworkCore.Tests.Pooling;

/// <summary>100 concurrent requests on a pool of 16 contexts (real SQLite), clean and with seeded leaks.</summary>
public sealed class PoolLoadTests
{
    private const int Requests = 100;
    private const int PoolSize = 16;
    private const int Tenants = 10;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pool_100ConcurrentRequestsOn16Contexts_EachSeesOnlyItsTenantAndNothingIsReported()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool, poolSize: PoolSize, tenants: Tenants);
        var results = await RunAsync(host, forgetsToReset: _ => false);

        Assert.All(results, r => Assert.True(r.Pristine, "a request was leased a context with another request's tenant id"));
        Assert.All(results, r => Assert.Equal([r.Tenant], r.TenantsSeen));
        Assert.All(results, r => Assert.Equal(3, r.Rows));
        Assert.Empty(host.Violations);
        Assert.True(results.Select(r => r.Context).Distinct(ReferenceEqualityComparer.Instance).Count() <= Requests);
    }

    [Fact]
    public async Task Pool_100ConcurrentRequestsWithSeededTenantLeaks_AllFoundAndNoRequestInheritsOne()
    {
        await using var host = await EfTestHost.CreateAsync(Registration.AddDbContextPool, poolSize: PoolSize, tenants: Tenants);
        static bool Forgets(int i) => i % 7 == 3;
        var results = await RunAsync(host, Forgets);

        var seeded = Enumerable.Range(0, Requests).Count(Forgets);
        Assert.Equal(seeded, host.Monitor.GetViolationCount(ViolationKind.SessionLeak));
        Assert.Equal(seeded, host.Violations.Count);
        Assert.All(host.Violations, v => Assert.Contains("[TenantState] TenantId was not reset", v.Message, StringComparison.Ordinal));
        var leakingRuns = results.Where(r => Forgets(r.Index)).Select(r => r.RunId).ToHashSet();
        Assert.All(host.Violations, v => Assert.Contains(v.Context!.RunId, leakingRuns));

        // Every request got a context without a tenant id, so none could read through another tenant's filter.
        Assert.All(results, r => Assert.True(r.Pristine, "a dirty context was leased again"));
        Assert.All(results, r => Assert.Equal([r.Tenant], r.TenantsSeen));
    }

    private static async Task<Result[]> RunAsync(EfTestHost host, Func<int, bool> forgetsToReset)
    {
        // The first PoolSize requests wait for each other while holding their contexts, so the pool is provably full.
        var saturated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inside = 0;

        async Task<Result> RequestAsync(int i)
        {
            await using var scope = host.Scope("user-" + i);
            var db = scope.Services.GetRequiredService<NotesDb>();
            var pristine = db.TenantId is null;
            var tenant = EfTestHost.Tenant(i % Tenants);
            db.TenantId = tenant;
            if (Interlocked.Increment(ref inside) == PoolSize)
            {
                saturated.TrySetResult();
            }

            if (i < PoolSize)
            {
                await saturated.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            }

            var notes = await db.Notes.AsNoTracking().ToListAsync(Ct);
            if (!forgetsToReset(i))
            {
                db.TenantId = null;
            }

            return new Result(i, scope.Context.RunId, tenant, pristine, notes.Count, notes.Select(n => n.Tenant).Distinct().ToArray(), db);
        }

        var tasks = new Task<Result>[Requests];
        for (var i = 0; i < Requests; i++)
        {
            var n = i;
            tasks[i] = Task.Run(() => RequestAsync(n), Ct);
        }

        return await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(90), Ct);
    }

    private sealed record Result(int Index, string RunId, string Tenant, bool Pristine, int Rows, string[] TenantsSeen, NotesDb Context);
}
