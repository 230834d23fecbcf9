using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Agents;

/// <summary>
/// How fresh agents are constructed: DI's own call site for an agent with one public constructor (not disposable),
/// <c>ActivatorUtilities</c>' rules otherwise, and the same constructor, dependencies and disposal either way.
/// </summary>
public sealed class AgentConstructionTests
{
    [Fact]
    public void BuildServiceProvider_FreshAgentDependencyMissing_ValidateOnBuildNamesIt()
    {
        var services = new ServiceCollection().AddIsolation().AddIsolatedAgent<NeedsMissingAgent>();

        var ex = Assert.Throws<AggregateException>(() => services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }));

        Assert.Contains(typeof(MissingDependency).FullName!, ex.Message, StringComparison.Ordinal);
        Assert.Contains(typeof(NeedsMissingAgent).FullName!, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAgent_FreshAgentDependencyMissingWithoutValidateOnBuild_ThrowsNamingIt()
    {
        await using var provider = new ServiceCollection().AddIsolation().AddIsolatedAgent<NeedsMissingAgent>().BuildServiceProvider();
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));

        var ex = Assert.Throws<InvalidOperationException>(() => scope.GetAgent<NeedsMissingAgent>());

        Assert.Contains(typeof(MissingDependency).FullName!, ex.Message, StringComparison.Ordinal);
        Assert.Contains(typeof(NeedsMissingAgent).FullName!, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddIsolatedAgent_ThenWithFactory_ConstructorNoLongerValidated()
    {
        var services = new ServiceCollection().AddIsolation()
            .AddIsolatedAgent<NeedsMissingAgent>()
            .AddIsolatedAgent(_ => new NeedsMissingAgent(new MissingDependency()));
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));

        Assert.NotNull(scope.GetAgent<NeedsMissingAgent>().Dependency);
    }

    [Fact]
    public async Task GetAgent_OptionalDependencyMissing_GetsTheDefault()
    {
        await using var host = TestHost.Create(s => s.AddScoped<ScopedDependency>().AddIsolatedAgent<OptionalDependencyAgent>());
        await using var scope = host.CreateScope();

        var agent = scope.GetAgent<OptionalDependencyAgent>();

        Assert.Null(agent.Missing);
        Assert.Same(scope.Services.GetRequiredService<ScopedDependency>(), agent.Dependency);
    }

    [Fact]
    public async Task GetAgent_ApplicationRegistersTheTypeItself_LibraryStillMakesAFreshOne()
    {
        var shared = new OptionalDependencyAgent(new ScopedDependency());
        await using var host = TestHost.Create(s => s.AddScoped<ScopedDependency>().AddSingleton(shared).AddIsolatedAgent<OptionalDependencyAgent>());
        await using var scope = host.CreateScope();

        var agent = scope.GetAgent<OptionalDependencyAgent>();

        Assert.NotSame(shared, agent);
        Assert.Same(shared, scope.Services.GetRequiredService<OptionalDependencyAgent>());
    }

    [Fact]
    public async Task GetAgent_SeveralConstructorsOneMarked_UsesTheMarkedOne()
    {
        await using var host = TestHost.Create(s => s.AddScoped<ScopedDependency>().AddIsolatedAgent<TwoConstructorsAgent>());
        await using var scope = host.CreateScope();

        var agent = scope.GetAgent<TwoConstructorsAgent>();

        Assert.Equal("marked", agent.Constructor);
    }

    [Fact]
    public async Task GetAgent_SeveralConstructorsNoneMarked_ThrowsLikeActivatorUtilities()
    {
        await using var host = TestHost.Create(s => s.AddScoped<ScopedDependency>().AddIsolatedAgent<AmbiguousAgent>());
        await using var scope = host.CreateScope();

        var ex = Assert.Throws<InvalidOperationException>(() => scope.GetAgent<AmbiguousAgent>());

        Assert.Contains(typeof(AmbiguousAgent).FullName!, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_DisposableAgentWithScopedDependency_DisposedOnceByTheScopeBeforeItsServices()
    {
        var journal = new List<string>();
        await using var host = TestHost.Create(s => s.AddSingleton(journal).AddScoped<JournalledDependency>().AddIsolatedAgent<DisposableWithDependencyAgent>());
        var scope = host.CreateScope();
        var agent = scope.GetAgent<DisposableWithDependencyAgent>();

        await scope.DisposeAsync();

        Assert.Equal(1, agent.Disposals);
        Assert.Equal(new[] { "agent", "dependency" }, journal);
    }

    [Fact]
    public async Task GetAgent_TwoContainersTakingTurns_EachScopeGetsItsOwnContainersAgent()
    {
        await using var first = TestHost.Create(s => s.AddScoped<ScopedDependency>().AddIsolatedAgent(_ => new OptionalDependencyAgent(new ScopedDependency(), "first")));
        await using var second = TestHost.Create(s => s.AddScoped<ScopedDependency>().AddIsolatedAgent<OptionalDependencyAgent>());

        for (var i = 0; i < 3; i++)
        {
            await using var a = first.CreateScope();
            await using var b = second.CreateScope();
            Assert.Equal("first", a.GetAgent<OptionalDependencyAgent>().Origin);
            var agent = b.GetAgent<OptionalDependencyAgent>();
            Assert.Null(agent.Origin);
            Assert.Same(b.Services.GetRequiredService<ScopedDependency>(), agent.Dependency);
        }
    }

    [Fact]
    public async Task GetAgent_ApplicationFactoryScoped_EachScopeUsesItsOwnFactory()
    {
        await using var host = TestHost.Create(s => s.AddScoped<ScopedDependency>().AddScoped<IAgentFactory<OptionalDependencyAgent>, PerScopeFactory>());

        for (var i = 0; i < 3; i++)
        {
            await using var scope = host.CreateScope();
            var factory = (PerScopeFactory)scope.Services.GetRequiredService<IAgentFactory<OptionalDependencyAgent>>();
            scope.GetAgent<OptionalDependencyAgent>();
            scope.GetAgent<OptionalDependencyAgent>();
            Assert.Equal(2, factory.Created);
        }
    }

    public sealed class MissingDependency;

    public sealed class NeedsMissingAgent(MissingDependency dependency) : IAgent
    {
        public MissingDependency Dependency { get; } = dependency;
    }

    public sealed class OptionalDependencyAgent(ScopedDependency dependency, string? origin = null, MissingDependency? missing = null) : IAgent
    {
        public ScopedDependency Dependency { get; } = dependency;

        public string? Origin { get; } = origin;

        public MissingDependency? Missing { get; } = missing;
    }

    public sealed class TwoConstructorsAgent : IAgent
    {
        public TwoConstructorsAgent(ScopedDependency dependency, IsolationScope scope)
        {
            _ = dependency;
            _ = scope;
            Constructor = "longest";
        }

        [ActivatorUtilitiesConstructor]
        public TwoConstructorsAgent(ScopedDependency dependency)
        {
            _ = dependency;
            Constructor = "marked";
        }

        public string Constructor { get; }
    }

    public sealed class AmbiguousAgent : IAgent
    {
        public AmbiguousAgent(ScopedDependency dependency) => _ = dependency;

        public AmbiguousAgent(IsolationScope scope) => _ = scope;
    }

    public sealed class JournalledDependency(List<string> journal) : IDisposable
    {
        public void Dispose() => journal.Add("dependency");
    }

    public sealed class DisposableWithDependencyAgent(JournalledDependency dependency, List<string> journal) : IAgent, IDisposable
    {
        public int Disposals { get; private set; }

        public JournalledDependency Dependency { get; } = dependency;

        public void Dispose()
        {
            Disposals++;
            journal.Add("agent");
        }
    }

    public sealed class PerScopeFactory(ScopedDependency dependency) : IAgentFactory<OptionalDependencyAgent>
    {
        public int Created { get; private set; }

        public OptionalDependencyAgent Create(IsolationScope scope)
        {
            Created++;
            return new OptionalDependencyAgent(dependency);
        }
    }
}
