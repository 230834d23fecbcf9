using Isolation.AspNetCore.SignalR;
using Isolation.AspNetCore.Tests.Support;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.AspNetCore.Tests.SignalR;

public sealed class IsolatedRunnerHubExtensionsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StartRun_WorkThrows_OneFailedTerminalEventAndOtherUsersUnaffected()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var alice = host.Connect("/chat", "alice");
        var aliceLog = new EventLog(alice);
        await alice.StartAsync(Ct);
        await using var bob = host.Connect("/chat", "bob");
        var bobLog = new EventLog(bob);
        await bob.StartAsync(Ct);

        var failing = await alice.InvokeAsync<string>("AskFailing", Ct);
        var healthy = await bob.InvokeAsync<string>("Ask", 10, Ct);

        Assert.Equal(AgentEventTypes.AgentFailed, (await aliceLog.TerminalOf(failing)).Type);
        Assert.Equal(AgentEventTypes.AgentCompleted, (await bobLog.TerminalOf(healthy)).Type);
        var probe = host.Services.GetRequiredService<HubProbe>();
        Assert.Equal(RunStatus.Failed, (await probe.Runs[failing]).Status);
        Assert.Single(aliceLog.OfRun(failing), e => AgentEventTypes.IsTerminal(e.Type));
        Assert.Equal(12, bobLog.OfRun(healthy).Count);
        Assert.DoesNotContain(bobLog.Events, e => e.RunId == failing);
        Assert.DoesNotContain(aliceLog.Events, e => e.Payload?.ToString()?.Contains("the model broke", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task StartRun_WorkHangs_OneTimeoutTerminalEventAtTheDeadlineAndOtherUsersUnaffected()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var alice = host.Connect("/chat", "alice");
        var aliceLog = new EventLog(alice);
        await alice.StartAsync(Ct);
        await using var bob = host.Connect("/chat", "bob");
        var bobLog = new EventLog(bob);
        await bob.StartAsync(Ct);

        var hanging = await alice.InvokeAsync<string>("AskHanging", Ct); // returns at once although the run never ends by itself
        var healthy = await bob.InvokeAsync<string>("Ask", 10, Ct);

        Assert.Equal(AgentEventTypes.AgentCompleted, (await bobLog.TerminalOf(healthy)).Type);
        Assert.Equal(AgentEventTypes.AgentTimeout, (await aliceLog.TerminalOf(hanging)).Type);
        var probe = host.Services.GetRequiredService<HubProbe>();
        Assert.Equal(RunStatus.TimedOut, (await probe.Runs[hanging]).Status);
        Assert.Single(aliceLog.OfRun(hanging), e => AgentEventTypes.IsTerminal(e.Type));
        Assert.Equal(aliceLog.OfRun(hanging).Select(e => e.Sequence), Enumerable.Range(1, aliceLog.OfRun(hanging).Count).Select(i => (long)i));
    }

    [Fact]
    public async Task StartRun_BothConnectionsOfUser_ReceiveRunStartedFromOne()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var first = host.Connect("/chat", "alice");
        var firstLog = new EventLog(first);
        await first.StartAsync(Ct);
        await using var second = host.Connect("/chat", "alice");
        var secondLog = new EventLog(second);
        await second.StartAsync(Ct);

        var runId = await first.InvokeAsync<string>("Ask", 3, Ct);

        await firstLog.TerminalOf(runId);
        await secondLog.TerminalOf(runId);
        Assert.Equal(firstLog.OfRun(runId).Select(e => e.Sequence), secondLog.OfRun(runId).Select(e => e.Sequence));
        Assert.All(secondLog.OfRun(runId), e => Assert.Equal(first.ConnectionId, e.ConnectionId));
    }

    [Fact]
    public void StartRun_NullArguments_ThrowArgumentNull()
    {
        var services = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var runner = services.GetRequiredService<IIsolatedRunner>();

        Assert.Throws<ArgumentNullException>(() => runner.StartRun(null!, (_, _) => Task.CompletedTask));
        Assert.Throws<ArgumentNullException>(() => ((IIsolatedRunner)null!).StartRun(null!, (_, _) => Task.CompletedTask));
    }
}
