using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Scopes;

public sealed class IsolationScopeTests
{
    [Fact]
    public async Task CreateScope_NullContext_Throws()
    {
        await using var host = TestHost.Create();

        Assert.Throws<ArgumentNullException>(() => host.Scopes.CreateScope(null!));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task CreateScope_NonPositiveDeadline_ThrowsWithGuidance(int seconds)
    {
        await using var host = TestHost.Create();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => host.CreateScope(deadline: TimeSpan.FromSeconds(seconds)));

        Assert.Equal("deadline", ex.ParamName);
        Assert.Contains("must be positive", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Current_AfterCreate_IsTheScopeAndRestoredAfterDispose()
    {
        await using var host = TestHost.Create();
        Assert.Null(IsolationScope.Current);

        await using (var outer = host.CreateScope("alice"))
        {
            Assert.Same(outer, IsolationScope.Current);
            await using (var inner = host.CreateScope("bob"))
            {
                Assert.Same(inner, IsolationScope.Current);
            }

            Assert.Same(outer, IsolationScope.Current);
        }

        Assert.Null(IsolationScope.Current);
    }

    [Fact]
    public async Task Current_FlowsIntoStartedWork()
    {
        await using var host = TestHost.Create();
        await using var scope = host.CreateScope();

        var seen = await Task.Run(async () =>
        {
            await Task.Yield();
            return IsolationScope.Current;
        });

        Assert.Same(scope, seen);
    }

    [Fact]
    public async Task Services_ArePerScope()
    {
        await using var host = TestHost.Create(s => s.AddScoped<ScopedDependency>());
        await using var first = host.CreateScope("alice");
        await using var second = host.CreateScope("bob");

        var a = first.Services.GetRequiredService<ScopedDependency>();
        var b = second.Services.GetRequiredService<ScopedDependency>();

        Assert.NotSame(a, b);
        Assert.Same(a, first.Services.GetRequiredService<ScopedDependency>());
        Assert.Same(first, first.Services.GetRequiredService<IsolationScope>());
    }

    [Fact]
    public async Task ResolveIsolationScope_FromPlainServiceScope_ThrowsWithGuidance()
    {
        await using var host = TestHost.Create();
        await using var plain = host.Provider.CreateAsyncScope();

        var ex = Assert.Throws<InvalidOperationException>(() => plain.ServiceProvider.GetRequiredService<IsolationScope>());

        Assert.Contains("IIsolationScopeFactory.CreateScope", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Aborted_DeadlinePasses_IsCancelledAndStatusTimedOut()
    {
        await using var host = TestHost.Create();
        var scope = host.CreateScope(deadline: TimeSpan.FromSeconds(30));

        host.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(scope.Aborted.IsCancellationRequested);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(scope.Aborted.IsCancellationRequested);
        Assert.True(scope.DeadlineExceeded);
        Assert.False(scope.IsDisposed);
        await scope.DisposeAsync();
    }

    [Fact]
    public async Task Aborted_DeadlinePasses_WorkWokenByTheCancellationSeesDeadlineExceeded()
    {
        await using var host = TestHost.Create();
        await using var scope = host.CreateScope(deadline: TimeSpan.FromSeconds(5));
        bool? seenByCallback = null;
        var seenByAwaiter = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, scope.Aborted);
            }
            catch (OperationCanceledException)
            {
            }

            return scope.DeadlineExceeded;
        });

        // Registered after the scope's own bookkeeping, so it runs first when the token is cancelled (callbacks run newest first).
        using var registration = scope.Aborted.Register(() => seenByCallback = scope.DeadlineExceeded);
        host.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.True(seenByCallback);
        Assert.True(await seenByAwaiter);
    }

    [Fact]
    public async Task Abort_CancelsTokenWithoutDeadline()
    {
        await using var host = TestHost.Create();
        await using var scope = host.CreateScope();
        var token = scope.Aborted;

        scope.Abort();

        Assert.True(token.IsCancellationRequested);
        Assert.False(scope.DeadlineExceeded);
    }

    [Fact]
    public async Task Abort_WithDeadlinePending_IsNotCountedAsDeadline()
    {
        await using var host = TestHost.Create();
        await using var scope = host.CreateScope(deadline: TimeSpan.FromSeconds(30));

        scope.Abort();
        host.Time.Advance(TimeSpan.FromSeconds(30));

        Assert.True(scope.Aborted.IsCancellationRequested);
        Assert.False(scope.DeadlineExceeded);
    }

    [Fact]
    public async Task DisposeAsync_CancelsAbortedAndMarksDisposed()
    {
        await using var host = TestHost.Create();
        var scope = host.CreateScope();
        var token = scope.Aborted;

        await scope.DisposeAsync();

        Assert.True(scope.IsDisposed);
        Assert.True(token.IsCancellationRequested);
        Assert.True(scope.Aborted.IsCancellationRequested);
    }

    [Fact]
    public async Task Aborted_FirstReadAfterDispose_IsCancelled()
    {
        await using var host = TestHost.Create();
        var scope = host.CreateScope();
        await scope.DisposeAsync();

        Assert.True(scope.Aborted.IsCancellationRequested);
    }

    [Fact]
    public async Task DisposeAsync_ReleasesAgentsInReverseOrder()
    {
        var journal = new List<string>();
        await using var host = TestHost.Create(s => s.AddSingleton(journal).AddIsolatedAgent<FirstAgent>().AddIsolatedAgent<SecondAgent>());
        var scope = host.CreateScope();
        scope.GetAgent<FirstAgent>();
        scope.GetAgent<SecondAgent>();

        await scope.DisposeAsync();

        Assert.Equal(new[] { "second", "first" }, journal);
    }

    [Fact]
    public async Task DisposeAsync_Twice_ReleasesOnce()
    {
        var journal = new List<string>();
        await using var host = TestHost.Create(s => s.AddSingleton(journal).AddIsolatedAgent<FirstAgent>());
        var scope = host.CreateScope();
        var agent = scope.GetAgent<FirstAgent>();

        await scope.DisposeAsync();
        await scope.DisposeAsync();
        scope.Dispose();

        Assert.Equal(1, agent.Disposals);
        Assert.Equal(1, host.Monitor.FinishedScopes);
    }

    [Fact]
    public async Task DisposeAsync_OneResourceThrows_OthersReleasedAndFailureLogged()
    {
        var journal = new List<string>();
        await using var host = TestHost.Create(s => s.AddSingleton(journal)
            .AddIsolatedAgent<FirstAgent>().AddIsolatedAgent<ThrowingAgent>().AddIsolatedAgent<SecondAgent>());
        var scope = host.CreateScope();
        scope.GetAgent<FirstAgent>();
        scope.GetAgent<ThrowingAgent>();
        scope.GetAgent<SecondAgent>();

        await scope.DisposeAsync();

        Assert.Equal(new[] { "second", "throwing", "first" }, journal);
        var record = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Name == "ResourceReleaseFailed");
        Assert.Contains(typeof(ThrowingAgent).FullName!, record.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(record.Exception);
    }

    [Fact]
    public async Task Dispose_Synchronous_WaitsForAsyncOnlyResources()
    {
        var journal = new List<string>();
        await using var host = TestHost.Create(s => s.AddSingleton(journal).AddIsolatedAgent<FirstAgent>().AddIsolatedAgent<AsyncOnlyAgent>());
        var scope = host.CreateScope();
        scope.GetAgent<FirstAgent>();
        scope.GetAgent<AsyncOnlyAgent>();

        scope.Dispose();

        Assert.Equal(new[] { "async-only", "first" }, journal);
    }

    [Fact]
    public async Task DisposeAsync_CallbackOnAbortedThrows_StillEnds()
    {
        await using var host = TestHost.Create();
        var scope = host.CreateScope();
        scope.Aborted.Register(() => throw new InvalidOperationException("callback failed"));

        await scope.DisposeAsync();

        Assert.True(scope.IsDisposed);
        Assert.Equal(1, host.Monitor.FinishedScopes);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Name == "ResourceReleaseFailed");
    }

    [Fact]
    public async Task ToString_NamesContext()
    {
        await using var host = TestHost.Create();
        var scope = host.Scopes.CreateScope(new UserExecutionContext("alice", runId: "r1"));

        Assert.Equal("IsolationScope for user 'alice' (run r1)", scope.ToString());
        await scope.DisposeAsync();
        Assert.EndsWith("(disposed)", scope.ToString(), StringComparison.Ordinal);
    }
}
