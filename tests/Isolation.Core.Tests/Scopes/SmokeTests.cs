using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Scopes;

public sealed class SmokeTests
{
    [Fact]
    public async Task CreateScope_GetAgent_ReturnsAgent()
    {
        var services = new ServiceCollection().AddIsolation().AddIsolatedAgent<Dummy>();
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("u1"));
        Assert.NotNull(scope.GetAgent<Dummy>());
    }

    private sealed class Dummy : IAgent
    {
    }
}
