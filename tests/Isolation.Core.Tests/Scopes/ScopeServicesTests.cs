using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Isolation.Tests.Scopes;

/// <summary>A scope's DI scope is created on first use of <see cref="IsolationScope.Services"/>: what that changes and what it must not.</summary>
public sealed class ScopeServicesTests
{
    [Fact]
    public async Task CreateAndDispose_WithoutUsingServices_AllocatesAtMost256Bytes()
    {
        await using var host = TestHost.Create(options: o => o.Mode = IsolationMode.Enforce);
        var scopes = host.Scopes;
        var context = new UserExecutionContext("alice");

        var perScope = await BytesPerCallAsync(() => scopes.CreateScope(context).Dispose());

        // The scope, its ambient holder and the execution context that makes it current; no DI scope.
        Assert.InRange(perScope, 1, 256);
    }

    [Fact]
    public async Task GetAgent_FreshAgentWithoutConstructorParameters_CreatesNoDIScope()
    {
        await using var host = TestHost.Create(services => services.AddIsolatedAgent<BareAgent>(), o => o.Mode = IsolationMode.Enforce);
        var scopes = host.Scopes;
        var context = new UserExecutionContext("alice");

        var perScope = await BytesPerCallAsync(() =>
        {
            using var scope = scopes.CreateScope(context);
            scope.GetAgent<BareAgent>();
        });

        // The scope alone (at most 256 B, above) and the 24 B agent: a DI scope would add 128 B more at least.
        Assert.InRange(perScope, 1, 256 + 24);
    }

    [Fact]
    public async Task GetAgent_DisposableAgentWithoutConstructorParameters_DisposedByTheScopeAndServicesStillWork()
    {
        await using var host = TestHost.Create(services => services.AddIsolatedAgent<BareDisposableAgent>().AddScoped<NeedsScope>());
        var scope = host.CreateScope("alice");
        var first = scope.GetAgent<BareDisposableAgent>();
        var second = scope.GetAgent<BareDisposableAgent>();

        Assert.NotSame(first, second);
        Assert.Same(scope, scope.Services.GetRequiredService<NeedsScope>().Scope);
        await scope.DisposeAsync();

        Assert.Equal(1, first.Disposals);
        Assert.Equal(1, second.Disposals);
    }

    [Fact]
    public async Task Services_ResolvedFromAFlowWhereTheScopeWasNeverCurrent_ResolveThatScope()
    {
        await using var host = TestHost.Create(services => services.AddScoped<NeedsScope>());
        await using var alice = host.CreateScope("alice");
        Task<(IsolationScope, NeedsScope)> elsewhere;

        // A flow with no ambient scope, and then one where another scope is current: the DI scope still knows its owner.
        using (ExecutionContext.SuppressFlow())
        {
            elsewhere = Task.Run(() =>
            {
                Assert.Null(IsolationScope.Current);
                return (alice.Services.GetRequiredService<IsolationScope>(), alice.Services.GetRequiredService<NeedsScope>());
            });
        }

        var (resolved, service) = await elsewhere;
        Assert.Same(alice, resolved);
        Assert.Same(alice, service.Scope);

        await using var bob = host.CreateScope("bob");
        Assert.Same(bob, IsolationScope.Current);
        Assert.Same(alice, alice.Services.GetRequiredService<IsolationScope>());
        Assert.Same(bob, bob.Services.GetRequiredService<NeedsScope>().Scope);
    }

    [Fact]
    public async Task Services_FirstUsedFromTwoThreadsAtOnce_OneProviderAndEveryScopedServiceDisposedOnce()
    {
        await using var host = TestHost.Create(services => services.AddScoped<CountedService>().AddSingleton<ServiceCounts>());
        var counts = host.Provider.GetRequiredService<ServiceCounts>();
        for (var round = 0; round < 200; round++)
        {
            var scope = host.CreateScope();
            using var start = new Barrier(2);
            var first = Task.Run(() => Use(scope, start));
            var second = Task.Run(() => Use(scope, start));
            var providers = await Task.WhenAll(first, second);

            Assert.Same(providers[0], providers[1]);
            Assert.Same(providers[0].GetRequiredService<CountedService>(), providers[1].GetRequiredService<CountedService>());
            await scope.DisposeAsync();
        }

        Assert.Equal(200, counts.Created);
        Assert.Equal(200, counts.Disposed);

        static IServiceProvider Use(IsolationScope scope, Barrier start)
        {
            start.SignalAndWait();
            return scope.Services;
        }
    }

    [Fact]
    public async Task Services_FirstUsedWhileTheScopeIsDisposed_EitherWorksAndIsDisposedOrThrowsObjectDisposed()
    {
        await using var host = TestHost.Create(services => services.AddScoped<CountedService>().AddSingleton<ServiceCounts>());
        var counts = host.Provider.GetRequiredService<ServiceCounts>();
        var refused = 0;
        for (var round = 0; round < 300; round++)
        {
            var scope = host.CreateScope();
            using var start = new Barrier(2);
            var user = Task.Run(() =>
            {
                start.SignalAndWait();
                try
                {
                    scope.Services.GetRequiredService<CountedService>();
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref refused);
                }
            });
            var disposer = Task.Run(() =>
            {
                start.SignalAndWait();
                scope.Dispose();
            });
            await Task.WhenAll(user, disposer);

            // Whatever the order, nothing the race created outlives the scope, and the scope stays ended.
            Assert.Equal(counts.Created, counts.Disposed);
            Assert.Throws<ObjectDisposedException>(() => scope.Services);
        }

        Assert.InRange(refused, 0, 300);
        Assert.Equal(counts.Created, counts.Disposed);
    }

    [Fact]
    public async Task Services_AfterDisposeOfAScopeThatNeverUsedThem_ThrowsObjectDisposedNamingTheUser()
    {
        await using var host = TestHost.Create();
        var scope = host.CreateScope("carol");
        await scope.DisposeAsync();

        var ex = Assert.Throws<ObjectDisposedException>(() => scope.Services);

        Assert.Contains("'carol'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("has been disposed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_ScopeThatNeverUsedServices_EndsAndCountsLikeAnyScope()
    {
        await using var host = TestHost.Create(options: o => o.Mode = IsolationMode.Observe);
        var scope = host.CreateScope();
        Assert.Same(scope, IsolationScope.Current);

        await scope.DisposeAsync();

        Assert.Null(IsolationScope.Current);
        Assert.True(scope.Aborted.IsCancellationRequested);
        Assert.Equal(1, host.Monitor.FinishedScopes);
    }

    [Fact]
    public async Task ScopeDuration_RecordedForScopesCreatedWhileAListenerIsEnabled_NotForOlderOnes()
    {
        await using var host = TestHost.Create();
        var older = host.CreateScope("alice");

        using (var durations = new MetricCollector<double>(host.Metrics.Meter, IsolationTelemetry.ScopeDuration))
        {
            var newer = host.CreateScope("bob");
            await newer.DisposeAsync();
            await older.DisposeAsync();

            // The older scope did not read the clock at its start, so it has no duration to record; it is counted still.
            var recorded = Assert.Single(durations.GetMeasurementSnapshot());
            Assert.True(recorded.Value >= 0);
        }

        Assert.Equal(2, host.Monitor.FinishedScopes);
    }

    /// <summary>
    /// Bytes <paramref name="call"/> allocates, averaged over 1,000 calls after 100 warm-up ones, on a thread-pool thread
    /// whose execution context holds no values: the test framework's own async-local values would otherwise be copied by
    /// the write that makes a scope current, and counted as the scope's.
    /// </summary>
    private static Task<long> BytesPerCallAsync(Action call)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(() =>
            {
                for (var i = 0; i < 100; i++)
                {
                    call();
                }

                const int Count = 1_000;
                var before = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < Count; i++)
                {
                    call();
                }

                return (GC.GetAllocatedBytesForCurrentThread() - before) / Count;
            });
        }
    }

    private sealed class BareAgent
    {
    }

    private sealed class BareDisposableAgent : IDisposable
    {
        private int _disposals;

        public int Disposals => Volatile.Read(ref _disposals);

        public void Dispose() => Interlocked.Increment(ref _disposals);
    }

    private sealed class NeedsScope(IsolationScope scope)
    {
        public IsolationScope Scope { get; } = scope;
    }

    private sealed class ServiceCounts
    {
        private int _created;
        private int _disposed;

        public int Created => Volatile.Read(ref _created);

        public int Disposed => Volatile.Read(ref _disposed);

        public void OnCreated() => Interlocked.Increment(ref _created);

        public void OnDisposed() => Interlocked.Increment(ref _disposed);
    }

    private sealed class CountedService : IDisposable
    {
        private readonly ServiceCounts _counts;
        private int _disposed;

        public CountedService(ServiceCounts counts)
        {
            _counts = counts;
            counts.OnCreated();
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _counts.OnDisposed();
            }
        }
    }
}
