using System.Net.WebSockets;
using System.Text;
using Isolation.AspNetCore.Tests.Support;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.AspNetCore.Tests.SignalR;

public sealed class SignalREventSinkTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TryWrite_FiveUsersTwoConnectionsConcurrentRuns_EveryEventOnlyAtItsUsersConnectionsInOrder()
    {
        const int Users = 5;
        const int Steps = 25;
        await using var host = await SignalRHosts.StartAsync();
        var clients = new List<(string User, HubConnection Connection, EventLog Log)>();
        for (var u = 0; u < Users; u++)
        {
            for (var c = 0; c < 2; c++)
            {
                var connection = host.Connect("/chat", "user-" + u);
                var log = new EventLog(connection);
                await connection.StartAsync(Ct);
                clients.Add(("user-" + u, connection, log));
            }
        }

        try
        {
            var registry = host.Services.GetRequiredService<IConnectionRegistry>();
            Assert.Equal(Users * 2, registry.ConnectionCount);

            // Every connection starts two runs at once: 20 concurrent runs, 4 per user.
            var starts = clients.SelectMany(c => new[] { c.Connection.InvokeAsync<string>("Ask", Steps, Ct), c.Connection.InvokeAsync<string>("Ask", Steps, Ct) }).ToArray();
            var runIds = await Task.WhenAll(starts);
            var runsByUser = clients.SelectMany(c => new[] { c.User, c.User }).Zip(runIds).GroupBy(p => p.First, p => p.Second).ToDictionary(g => g.Key, g => g.ToHashSet());

            foreach (var (user, _, log) in clients)
            {
                foreach (var runId in runsByUser[user])
                {
                    Assert.Equal(AgentEventTypes.AgentCompleted, (await log.TerminalOf(runId)).Type);
                }
            }

            foreach (var (user, _, log) in clients)
            {
                var events = log.Events;
                Assert.All(events, e => Assert.Equal(user, e.UserId)); // zero cross-user events
                Assert.All(events, e => Assert.Contains(e.RunId, runsByUser[user]));
                foreach (var runId in runsByUser[user])
                {
                    var run = log.OfRun(runId);
                    Assert.Equal(Enumerable.Range(1, run.Count).Select(i => (long)i), run.Select(e => e.Sequence)); // per-run order, nothing missing
                    Assert.Equal(AgentEventTypes.AgentStarted, run[0].Type);
                    Assert.Equal(Steps, run.Count(e => e.Type == AgentEventTypes.AgentThinking));
                    Assert.Single(run, e => AgentEventTypes.IsTerminal(e.Type));
                    Assert.True(AgentEventTypes.IsTerminal(run[^1].Type));
                }
            }
        }
        finally
        {
            foreach (var (_, connection, _) in clients)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task TryWrite_StalledClient_OtherUsersGetEveryEventAndStalledConnectionIsRemoved()
    {
        await using var host = await SignalRHosts.StartAsync(services => services.Configure<EventDeliveryOptions>(o =>
        {
            o.QueueCapacity = 16;
            o.SendTimeout = TimeSpan.FromSeconds(1);
        }));
        var registry = host.Services.GetRequiredService<IConnectionRegistry>();
        var probe = host.Services.GetRequiredService<HubProbe>();

        // A real SignalR client over a raw WebSocket that completes the handshake, starts a flood of large events and then
        // never reads again: the server's buffers towards it fill up.
        using var stalled = new ClientWebSocket();
        await stalled.ConnectAsync(new Uri(new Uri("ws://" + host.Address.Authority), "/chat?user=stalled"), Ct);
        await SendFrameAsync(stalled, """{"protocol":"json","version":1}""");
        await ReceiveHandshakeAsync(stalled);
        await Poll.UntilAsync(() => registry.GetConnectionCount("stalled") == 1, "the stalled client's connection is registered");
        await SendFrameAsync(stalled, """{"type":1,"target":"Flood","arguments":[64,1048576]}""");
        await Poll.UntilAsync(() => !probe.Runs.IsEmpty, "the flood run started");
        var flood = probe.Runs.Values.Single();

        await using var alice = host.Connect("/chat", "alice");
        var log = new EventLog(alice);
        await alice.StartAsync(Ct);
        var runId = await alice.InvokeAsync<string>("Ask", 10, Ct);

        Assert.Equal(AgentEventTypes.AgentCompleted, (await log.TerminalOf(runId)).Type);
        Assert.Equal(12, log.OfRun(runId).Count); // within its own queue capacity of 16: nothing of alice's is dropped
        Assert.Equal(RunStatus.Completed, (await flood.WaitAsync(TimeSpan.FromSeconds(20), Ct)).Status);
        await Poll.UntilAsync(() => registry.GetConnectionCount("stalled") == 0, "the stalled connection is aborted after the send timeout and leaves the registry", 20_000);
        Assert.Equal(1, registry.GetConnectionCount("alice"));
    }

    [Fact]
    public async Task Registry_ConnectionsDisconnectOrVanish_EntriesRemoved()
    {
        await using var host = await SignalRHosts.StartAsync();
        var registry = host.Services.GetRequiredService<IConnectionRegistry>();

        var graceful = await host.ConnectedAsync("carol");
        await using var stays = await host.ConnectedAsync("carol");
        using var vanishing = new ClientWebSocket();
        await vanishing.ConnectAsync(new Uri(new Uri("ws://" + host.Address.Authority), "/chat?user=carol"), Ct);
        await SendFrameAsync(vanishing, """{"protocol":"json","version":1}""");
        await ReceiveHandshakeAsync(vanishing);
        await Poll.UntilAsync(() => registry.GetConnectionCount("carol") == 3, "three connections of carol registered");

        await graceful.DisposeAsync();
        await Poll.UntilAsync(() => registry.GetConnectionCount("carol") == 2, "a stopped connection leaves the registry");
        vanishing.Abort(); // no close frame: the TCP connection just goes away
        await Poll.UntilAsync(() => registry.GetConnectionCount("carol") == 1, "a vanished connection leaves the registry");

        await stays.DisposeAsync();
        await Poll.UntilAsync(() => registry.ConnectionCount == 0, "the last connection leaves no entry");
    }

    [Fact]
    public async Task TryWrite_CustomClientMethod_EventsArriveOnThatMethod()
    {
        await using var host = await SignalRHosts.StartAsync(s => s.AddSignalR().AddIsolation(o => o.ClientMethod = "agentEvent"));
        await using var alice = host.Connect("/chat", "alice");
        var log = new EventLog(alice, "agentEvent");
        await alice.StartAsync(Ct);

        var runId = await alice.InvokeAsync<string>("Ask", 2, Ct);

        Assert.Equal(AgentEventTypes.AgentCompleted, (await log.TerminalOf(runId)).Type);
        Assert.Equal(4, log.OfRun(runId).Count);
    }

    [Fact]
    public async Task TryWrite_EnvelopeOfAnotherUser_RefusedAndReportedAsEventLeak()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var alice = host.Connect("/chat", "alice");
        var log = new EventLog(alice);
        await alice.StartAsync(Ct);
        var monitor = host.Services.GetRequiredService<IsolationMonitor>();
        var registry = host.Services.GetRequiredService<IConnectionRegistry>();

        // A forwarding bug: something hands bob's envelope to the registry under alice's sink. Build one with the public
        // constructor and publish it as alice's sink would see it only if the owner check failed.
        var forwarded = new EventEnvelope("bob", null, "run-x", 1, DateTimeOffset.UtcNow, "agent_thinking", "secret");
        var result = registry.Publish(forwarded);

        Assert.Equal(0, result.Delivered);
        var runId = await alice.InvokeAsync<string>("Ask", 1, Ct);
        await log.TerminalOf(runId);
        Assert.DoesNotContain(log.Events, e => e.UserId == "bob");
        Assert.Equal(0, monitor.GetViolationCount(ViolationKind.EventLeak)); // routed by user: it never reached alice's sink
    }

    private static Task SendFrameAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json + "\u001e"), WebSocketMessageType.Text, endOfMessage: true, Ct);

    private static async Task ReceiveHandshakeAsync(ClientWebSocket socket)
    {
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, Ct);
        Assert.Equal("{}\u001e", Encoding.UTF8.GetString(buffer, 0, received.Count));
    }
}
