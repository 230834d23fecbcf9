using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Isolation.AgentFramework.Tests.SemanticKernel;

/// <summary>Semantic Kernel ChatHistory per conversation, owned and checked like agent sessions.</summary>
public sealed class OwnerCheckedChatHistoryStoreTests
{
    private static IIsolationScopeFactory Scopes(IsolationMode mode, out ServiceProvider provider)
    {
        var services = new ServiceCollection();
        services.AddIsolation(o => o.Mode = mode);
        provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IIsolationScopeFactory>();
    }

    [Fact]
    public async Task Get_OwnConversation_ReturnsAnIndependentCopy()
    {
        var scopes = Scopes(IsolationMode.Enforce, out var provider);
        await using var _ = provider;
        var store = new OwnerCheckedChatHistoryStore();
        await using var scope = scopes.CreateScope(new UserExecutionContext("alice"));
        var history = store.GetOrCreate("c-1");
        history.AddUserMessage("hello");
        store.Save("c-1", history);

        var first = store.Get("c-1")!;
        first.AddUserMessage("not saved");
        var second = store.Get("c-1")!;

        Assert.Equal(["hello"], second.Select(m => m.Content));
        Assert.NotSame(first, second);
    }

    [Fact]
    public async Task Get_StolenIdInObserve_AnswersNotFoundAndSaveLeavesOwnersHistory()
    {
        var scopes = Scopes(IsolationMode.Observe, out var provider);
        await using var _ = provider;
        var store = new OwnerCheckedChatHistoryStore();
        await using (scopes.CreateScope(new UserExecutionContext("alice")))
        {
            var history = new ChatHistory();
            history.AddUserMessage("my secret");
            store.Save("c-alice", history);
        }

        await using (var mallory = scopes.CreateScope(new UserExecutionContext("mallory")))
        {
            var stolen = store.GetOrCreate("c-alice");
            Assert.Empty(stolen);
            stolen.AddUserMessage("overwrite");
            store.Save("c-alice", stolen);
            Assert.Equal(2, mallory.ViolationCount);
        }

        await using var alice = scopes.CreateScope(new UserExecutionContext("alice"));
        Assert.Equal(["my secret"], store.Get("c-alice")!.Select(m => m.Content));
    }

    [Fact]
    public async Task Get_StolenIdInEnforce_ThrowsCrossScopeAccess()
    {
        var scopes = Scopes(IsolationMode.Enforce, out var provider);
        await using var _ = provider;
        var store = new OwnerCheckedChatHistoryStore();
        await using (scopes.CreateScope(new UserExecutionContext("alice")))
        {
            store.Save("c-alice", new ChatHistory());
        }

        await using var mallory = scopes.CreateScope(new UserExecutionContext("mallory"));
        var ex = Assert.Throws<IsolationViolationException>(() => store.Get("c-alice"));

        Assert.Equal(ViolationKind.CrossScopeAccess, ex.Kind);
        Assert.Throws<IsolationViolationException>(() => store.Save("c-alice", new ChatHistory()));
    }

    [Fact]
    public void Get_OutsideScope_ThrowsInvalidOperation()
    {
        var store = new OwnerCheckedChatHistoryStore();

        var ex = Assert.Throws<InvalidOperationException>(() => store.Get("c-1"));

        Assert.Contains("outside an IsolationScope", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddKernel_RegistersATransientKernel()
    {
        // The docs' claim: a Kernel from AddKernel is transient, so plugins with state must be scoped services.
        var services = new ServiceCollection();
        services.AddKernel();

        var descriptor = Assert.Single(services, d => d.ServiceType == typeof(Kernel));

        Assert.Equal(ServiceLifetime.Transient, descriptor.Lifetime);
        using var provider = services.BuildServiceProvider();
        Assert.NotSame(provider.GetRequiredService<Kernel>(), provider.GetRequiredService<Kernel>());
    }
}
