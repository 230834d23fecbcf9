using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Scopes;

public sealed class IsolationModeProviderTests
{
    [Fact]
    public async Task CreateScope_ProviderRegistered_ChoosesModePerUser()
    {
        await using var host = TestHost.Create(s => s.AddSingleton<IIsolationModeProvider>(new PerUserModes()));

        await using var enforced = host.CreateScope("enforced-user");
        await using var observed = host.CreateScope("observed-user");
        await using var off = host.CreateScope("off-user");

        Assert.Equal(IsolationMode.Enforce, enforced.Mode);
        Assert.Equal(IsolationMode.Observe, observed.Mode);
        Assert.Equal(IsolationMode.Off, off.Mode);
    }

    [Fact]
    public async Task CreateScope_NoProvider_UsesConfiguredMode()
    {
        await using var host = TestHost.Create(options: o => o.Mode = IsolationMode.Observe);
        await using var scope = host.CreateScope();

        Assert.Equal(IsolationMode.Observe, scope.Mode);
    }

    [Fact]
    public async Task Violation_SameMistakeUnderTwoModes_ThrowsOnlyWhereEnforced()
    {
        var shared = new PlainAgent();
        await using var host = TestHost.Create(s => s
            .AddSingleton<IIsolationModeProvider>(new PerUserModes())
            .AddIsolatedAgent<PlainAgent>(_ => shared));
        await using (var first = host.CreateScope("observed-user"))
        {
            first.GetAgent<PlainAgent>();
        }

        await using (var observed = host.CreateScope("observed-user"))
        {
            Assert.Same(shared, observed.GetAgent<PlainAgent>());
        }

        await using (var enforced = host.CreateScope("enforced-user"))
        {
            Assert.Throws<IsolationViolationException>(() => enforced.GetAgent<PlainAgent>());
        }

        await using (var off = host.CreateScope("off-user"))
        {
            Assert.Same(shared, off.GetAgent<PlainAgent>());
        }

        Assert.Equal(2, host.Monitor.GetViolationCount(ViolationKind.SingletonReuse));
    }

    [Fact]
    public async Task CreateScope_ProviderReturnsUndefinedMode_ThrowsNamingProvider()
    {
        await using var host = TestHost.Create(s => s.AddSingleton<IIsolationModeProvider>(new BrokenModes()));

        var ex = Assert.Throws<InvalidOperationException>(() => host.CreateScope("alice"));

        Assert.Contains(nameof(BrokenModes), ex.Message, StringComparison.Ordinal);
        Assert.Contains("not an IsolationMode", ex.Message, StringComparison.Ordinal);
    }

    private sealed class PerUserModes : IIsolationModeProvider
    {
        public IsolationMode GetMode(UserExecutionContext context) => context.UserId switch
        {
            "enforced-user" => IsolationMode.Enforce,
            "off-user" => IsolationMode.Off,
            _ => IsolationMode.Observe,
        };
    }

    private sealed class BrokenModes : IIsolationModeProvider
    {
        public IsolationMode GetMode(UserExecutionContext context) => (IsolationMode)99;
    }
}
