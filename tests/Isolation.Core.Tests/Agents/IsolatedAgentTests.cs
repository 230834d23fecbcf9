using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Agents;

public sealed class IsolatedAgentTests
{
    private static TestHost CreateHost(IsolationMode mode) =>
        TestHost.Create(
            s => s.AddScoped<ScopedDependency>().AddIsolatedAgent<NotesAgent>().AddIsolatedAgent<PooledNotesAgent>(o => o.UsePool = true),
            o => o.Mode = mode);

    [Fact]
    public void EnsureOwned_CreatedWithNew_IsNotChecked()
    {
        var agent = new PooledNotesAgent();

        agent.Add("outside any scope");

        Assert.Single(agent.Notes);
    }

    [Fact]
    public async Task EnsureOwned_StaleReferenceUsedOutsideAnyScopeWhileReRented_EnforceThrowsCrossScope()
    {
        await using var host = CreateHost(IsolationMode.Enforce);
        PooledNotesAgent kept;
        await using (var alice = host.CreateScope("alice"))
        {
            kept = alice.GetAgent<PooledNotesAgent>();
        }

        await using var bob = host.CreateScope("bob");
        var bobs = bob.GetAgent<PooledNotesAgent>();
        Assert.Same(kept, bobs);
        bobs.Add("bob's note");

        // Code that kept alice's reference runs outside bob's scope (no ambient scope, or its own finished one).
        var ex = await Task.Run(() =>
        {
            using (ExecutionContext.SuppressFlow())
            {
                return Task.Run(() => Assert.Throws<IsolationViolationException>(() => kept.Add("alice again")));
            }
        });

        Assert.Equal(ViolationKind.CrossScopeAccess, ex.Kind);
    }

    [Fact]
    public async Task EnsureOwned_StaleReferenceWhilePooled_EnforceThrowsUseAfterReturn()
    {
        await using var host = CreateHost(IsolationMode.Enforce);
        PooledNotesAgent kept;
        await using (var alice = host.CreateScope("alice"))
        {
            kept = alice.GetAgent<PooledNotesAgent>();
            kept.Add("secret");
        }

        var ex = Assert.Throws<IsolationViolationException>(() => kept.Add("after return"));

        Assert.Equal(ViolationKind.UseAfterReturn, ex.Kind);
        Assert.Contains("went back to its pool", ex.Message, StringComparison.Ordinal);
        Assert.Contains("user 'alice'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Add", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.UseAfterReturn));
    }

    [Fact]
    public async Task EnsureOwned_StaleReferenceUsedFromNextUsersScope_ReportsUseAfterReturnNotData()
    {
        await using var host = CreateHost(IsolationMode.Enforce);
        PooledNotesAgent kept;
        await using (var alice = host.CreateScope("alice"))
        {
            kept = alice.GetAgent<PooledNotesAgent>();
        }

        await using var carol = host.CreateScope("carol");

        // Carol never got the agent from her scope: the pooled instance is idle, so any use is a use after return.
        var ex = Assert.Throws<IsolationViolationException>(() => _ = kept.Notes);
        Assert.Equal(ViolationKind.UseAfterReturn, ex.Kind);
        Assert.Contains("from the scope of user 'carol'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, carol.ViolationCount);
    }

    [Fact]
    public async Task EnsureOwned_AgentOfAnotherLiveScope_EnforceThrowsCrossScope()
    {
        await using var host = CreateHost(IsolationMode.Enforce);
        await using var alice = host.CreateScope("alice");
        var alicesAgent = alice.GetAgent<NotesAgent>();

        await using var bob = host.CreateScope("bob");
        var ex = Assert.Throws<IsolationViolationException>(() => alicesAgent.Add("bob writes into alice's agent"));

        Assert.Equal(ViolationKind.CrossScopeAccess, ex.Kind);
        Assert.Equal("alice", ex.Violation!.Context!.UserId);
        Assert.Equal("bob", ex.Violation.OtherContext!.UserId);
        Assert.Contains("share data between scopes, never agents", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureOwned_AfterScopeEnded_EnforceThrowsUseAfterDispose()
    {
        await using var host = CreateHost(IsolationMode.Enforce);
        NotesAgent kept;
        await using (var alice = host.CreateScope("alice"))
        {
            kept = alice.GetAgent<NotesAgent>();
        }

        var ex = Assert.Throws<IsolationViolationException>(() => kept.Add("late"));

        Assert.Equal(ViolationKind.UseAfterDispose, ex.Kind);
        Assert.Contains("after the scope of user 'alice'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureOwned_Observe_ReportsButProceeds()
    {
        await using var host = CreateHost(IsolationMode.Observe);
        var violations = host.CaptureViolations();
        PooledNotesAgent kept;
        await using (var alice = host.CreateScope("alice"))
        {
            kept = alice.GetAgent<PooledNotesAgent>();
        }

        kept.Add("proceeds in observe mode");

        var violation = Assert.Single(violations);
        Assert.Equal(ViolationKind.UseAfterReturn, violation.Kind);
        Assert.Equal(typeof(PooledNotesAgent).FullName, violation.ResourceType);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Id == 1001 && r.Message.Contains("use_after_return", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EnsureOwned_Off_NoCheck()
    {
        await using var host = CreateHost(IsolationMode.Off);
        NotesAgent kept;
        await using (var alice = host.CreateScope("alice"))
        {
            kept = alice.GetAgent<NotesAgent>();
        }

        kept.Add("unchecked");

        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task EnsureOwned_OwnScopeAcrossAwaits_NoViolation()
    {
        await using var host = CreateHost(IsolationMode.Enforce);
        await using var scope = host.CreateScope();
        var agent = scope.GetAgent<NotesAgent>();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            await Task.Yield();
            lock (agent)
            {
                agent.Add("parallel " + i);
            }
        })));

        Assert.Equal(4, agent.Notes.Count);
        Assert.Equal(0, host.Monitor.TotalViolations);
    }
}
