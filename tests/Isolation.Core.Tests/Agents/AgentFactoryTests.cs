using System.Collections.Concurrent;
using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Isolation.Tests.Agents;

public sealed class AgentFactoryTests
{
    private static TestHost CreateHost(Action<IServiceCollection>? configure = null, Action<IsolationOptions>? options = null) =>
        TestHost.Create(s =>
        {
            s.AddScoped<ScopedDependency>();
            s.AddIsolatedAgent<NotesAgent>();
            configure?.Invoke(s);
        }, options);

    [Fact]
    public async Task GetAgent_TwiceInOneScope_ReturnsTwoFreshInstancesSharingScopedServices()
    {
        await using var host = CreateHost();
        await using var scope = host.CreateScope();

        var first = scope.GetAgent<NotesAgent>();
        var second = scope.GetAgent<NotesAgent>();

        Assert.NotSame(first, second);
        Assert.Same(first.Dependency, second.Dependency);
        Assert.Same(scope, first.CreatedIn);
    }

    [Fact]
    public async Task GetAgent_ConcurrentScopes_EachGetsItsOwnAgentAndServices()
    {
        await using var host = CreateHost();
        const int scopes = 200;
        var agents = new ConcurrentBag<NotesAgent>();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var work = Enumerable.Range(0, scopes).Select(i => Task.Run(async () =>
        {
            await start.Task;
            await using var scope = host.CreateScope("user-" + (i % 50));
            var agent = scope.GetAgent<NotesAgent>();
            agent.Add("request " + i);
            await Task.Yield();
            agent.Add("done " + i);
            Assert.Equal(new[] { "request " + i, "done " + i }, agent.Notes);
            agents.Add(agent);
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(work);

        Assert.Equal(scopes, agents.Distinct().Count());
        Assert.Equal(scopes, agents.Select(a => a.Dependency.Id).Distinct().Count());
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task GetAgent_TenUsersWithRandomFailures_OtherUsersUnaffected()
    {
        await using var host = CreateHost();
        var random = new Random(1234);
        var plan = Enumerable.Range(0, 300).Select(i => (User: "user-" + (i % 10), Fail: random.NextDouble() < 0.3, Index: i)).ToArray();
        var completed = new ConcurrentDictionary<int, IReadOnlyList<string>>();

        var work = plan.Select(p => Task.Run(async () =>
        {
            await using var scope = host.CreateScope(p.User);
            var agent = scope.GetAgent<NotesAgent>();
            agent.Add(p.User + ":" + p.Index);
            await Task.Yield();
            if (p.Fail)
            {
                throw new InvalidOperationException("boom " + p.Index);
            }

            agent.Add("ok");
            completed[p.Index] = agent.Notes.ToArray();
        })).ToArray();
        var all = Task.WhenAll(work);
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => all);

        foreach (var p in plan)
        {
            if (p.Fail)
            {
                Assert.False(completed.ContainsKey(p.Index));
            }
            else
            {
                Assert.Equal(new[] { p.User + ":" + p.Index, "ok" }, completed[p.Index]);
            }
        }

        Assert.Equal(plan.Length, host.Monitor.FinishedScopes);
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task GetAgent_NotRegistered_ThrowsNamingTheRegistration()
    {
        await using var host = CreateHost();
        await using var scope = host.CreateScope();

        var ex = Assert.Throws<InvalidOperationException>(() => scope.GetAgent<PlainAgent>());

        Assert.Contains(typeof(PlainAgent).FullName!, ex.Message, StringComparison.Ordinal);
        Assert.Contains("AddIsolatedAgent<PlainAgent>()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAgent_AfterDispose_ThrowsObjectDisposed()
    {
        await using var host = CreateHost();
        var scope = host.CreateScope("alice");
        await scope.DisposeAsync();

        var ex = Assert.Throws<ObjectDisposedException>(() => scope.GetAgent<NotesAgent>());

        Assert.Contains("user 'alice'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("start a new scope", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_NullScope_Throws()
    {
        await using var host = CreateHost();
        var factory = host.Provider.GetRequiredService<IAgentFactory<NotesAgent>>();

        Assert.Throws<ArgumentNullException>(() => factory.Create(null!));
    }

    [Fact]
    public void AddIsolatedAgent_AbstractType_ThrowsWithGuidance()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddIsolatedAgent<JournalAgent>());

        Assert.Contains("abstract", ex.Message, StringComparison.Ordinal);
        Assert.Contains("pass a factory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddIsolatedAgent_CalledTwice_OneFactory()
    {
        var services = new ServiceCollection().AddScoped<ScopedDependency>().AddIsolatedAgent<NotesAgent>().AddIsolatedAgent<NotesAgent>();
        await using var provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(IAgentFactory<NotesAgent>));
    }

    [Fact]
    public async Task Pooled_SequentialScopes_ReuseResetInstance()
    {
        await using var host = CreateHost(s => s.AddIsolatedAgent<PooledNotesAgent>(o => o.UsePool = true));
        PooledNotesAgent first;
        await using (var scope = host.CreateScope("alice"))
        {
            first = scope.GetAgent<PooledNotesAgent>();
            first.Add("alice's secret");
        }

        await using (var scope = host.CreateScope("bob"))
        {
            var second = scope.GetAgent<PooledNotesAgent>();

            Assert.Same(first, second);
            Assert.Empty(second.Notes);
            Assert.Equal(1, second.Resets);
        }
    }

    [Fact]
    public async Task Pooled_ResetRefused_InstanceDiscarded()
    {
        await using var host = CreateHost(s => s.AddIsolatedAgent<PooledNotesAgent>(o => o.UsePool = true));
        PooledNotesAgent first;
        await using (var scope = host.CreateScope())
        {
            first = scope.GetAgent<PooledNotesAgent>();
            first.RefuseReset = true;
        }

        await using (var scope = host.CreateScope())
        {
            Assert.NotSame(first, scope.GetAgent<PooledNotesAgent>());
        }
    }

    [Fact]
    public async Task Pooled_ContainerDisposed_IdleDisposableAgentsDisposed()
    {
        var journal = new List<string>();
        DisposablePooledAgent agent;
        await using (var host = TestHost.Create(s => s.AddSingleton(journal).AddIsolatedAgent<DisposablePooledAgent>(o => o.UsePool = true)))
        {
            await using (var scope = host.CreateScope())
            {
                agent = scope.GetAgent<DisposablePooledAgent>();
            }

            Assert.Empty(journal);
        }

        Assert.Equal(new[] { "pooled" }, journal);
        Assert.Equal(1, agent.Disposals);
    }

    [Fact]
    public async Task Pooled_NotResettable_FailsValidationWithGuidance()
    {
        await using var provider = new ServiceCollection().AddIsolatedAgent<PlainAgent>(o => o.UsePool = true).BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<IsolatedAgentOptions>>().Get(typeof(PlainAgent).FullName!));

        Assert.Contains("IResettable", ex.Message, StringComparison.Ordinal);
        Assert.Contains("UsePool = true", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pooled_BadMaximumRetained_FailsValidation()
    {
        await using var provider = new ServiceCollection().AddIsolatedAgent<PooledNotesAgent>(o => { o.UsePool = true; o.MaximumRetained = 0; }).BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IAgentFactory<PooledNotesAgent>>());

        Assert.Contains("MaximumRetained = 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CustomFactory_ReturnsNull_ThrowsNamingTheRegistration()
    {
        await using var host = TestHost.Create(s => s.AddIsolatedAgent<PlainAgent>(_ => null!));
        await using var scope = host.CreateScope();

        var ex = Assert.Throws<InvalidOperationException>(() => scope.GetAgent<PlainAgent>());

        Assert.Contains("returned null", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CustomFactory_SameInstanceForTwoScopes_EnforceThrowsSingletonReuse()
    {
        var shared = new PlainAgent();
        await using var host = TestHost.Create(s => s.AddIsolatedAgent<PlainAgent>(_ => shared));
        await using (var scope = host.CreateScope("alice"))
        {
            Assert.Same(shared, scope.GetAgent<PlainAgent>());
        }

        await using var bobScope = host.CreateScope("bob");
        var ex = Assert.Throws<IsolationViolationException>(() => bobScope.GetAgent<PlainAgent>());

        Assert.Equal(ViolationKind.SingletonReuse, ex.Kind);
        Assert.Contains("user 'alice'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("user 'bob'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("new instance", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.SingletonReuse));
    }

    [Fact]
    public async Task CustomFactory_SameInstanceForTwoScopes_ObserveReportsAndReturns()
    {
        var shared = new PlainAgent();
        await using var host = TestHost.Create(s => s.AddIsolatedAgent<PlainAgent>(_ => shared), o => o.Mode = IsolationMode.Observe);
        var violations = host.CaptureViolations();
        await using (var scope = host.CreateScope("alice"))
        {
            scope.GetAgent<PlainAgent>();
        }

        await using var bobScope = host.CreateScope("bob");
        Assert.Same(shared, bobScope.GetAgent<PlainAgent>());

        var violation = Assert.Single(violations);
        Assert.Equal(ViolationKind.SingletonReuse, violation.Kind);
        Assert.Equal("bob", violation.Context!.UserId);
        Assert.Equal("alice", violation.OtherContext!.UserId);
        Assert.Equal(1, bobScope.ViolationCount);
    }

    [Fact]
    public async Task CustomFactory_FreshInstances_NoViolation()
    {
        await using var host = TestHost.Create(s => s.AddIsolatedAgent<PlainAgent>(_ => new PlainAgent()));
        for (var i = 0; i < 3; i++)
        {
            await using var scope = host.CreateScope("user-" + i);
            scope.GetAgent<PlainAgent>();
        }

        Assert.Equal(0, host.Monitor.TotalViolations);
    }
}
