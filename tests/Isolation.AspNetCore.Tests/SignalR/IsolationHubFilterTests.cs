using Isolation.AspNetCore.Tests.Support;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.AspNetCore.Tests.SignalR;

public sealed class IsolationHubFilterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task InvokeMethodAsync_AuthenticatedCaller_ScopeIsCurrentForCallerAndDisposedAfterwards()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var alice = await host.ConnectedAsync("alice");

        var answer = await alice.InvokeAsync<string>("WhoAmI", Ct);

        Assert.Equal("alice|" + alice.ConnectionId + "|True", answer);
        var probe = host.Services.GetRequiredService<HubProbe>();
        var scope = Assert.Single(probe.Scopes);
        Assert.Equal(IsolationMode.Enforce, scope.Mode);
        await Poll.UntilAsync(() => scope.IsDisposed, "the invocation's scope is disposed when the invocation ends");
    }

    [Fact]
    public async Task InvokeMethodAsync_ConcurrentCallsOfTwoUsers_EachGetsOwnScope()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var alice = await host.ConnectedAsync("alice");
        await using var bob = await host.ConnectedAsync("bob");

        var calls = Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? alice : bob).InvokeAsync<string>("WhoAmI", Ct)).ToArray();
        var answers = await Task.WhenAll(calls);

        for (var i = 0; i < answers.Length; i++)
        {
            Assert.StartsWith(i % 2 == 0 ? "alice|" : "bob|", answers[i], StringComparison.Ordinal);
        }

        var scopes = host.Services.GetRequiredService<HubProbe>().Scopes.ToArray();
        Assert.Equal(20, scopes.Distinct().Count());
    }

    [Fact]
    public async Task InvokeMethodAsync_ConnectionWithoutUser_ThrowsHubExceptionNamingTheFix()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var anonymous = await host.ConnectedAsync(user: null);

        var ex = await Assert.ThrowsAsync<HubException>(() => anonymous.InvokeAsync<string>("WhoAmI", Ct));

        Assert.Contains("Context.UserIdentifier is empty", ex.Message, StringComparison.Ordinal);
        Assert.Contains("IUserIdProvider", ex.Message, StringComparison.Ordinal);
        Assert.Empty(host.Services.GetRequiredService<HubProbe>().Scopes);
        Assert.Equal(0, host.Services.GetRequiredService<IConnectionRegistry>().ConnectionCount);
    }

    [Fact]
    public async Task InvokeMethodAsync_MethodThrows_ScopeDisposedAndOtherUsersUnaffected()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var alice = await host.ConnectedAsync("alice");
        await using var bob = await host.ConnectedAsync("bob");

        await Assert.ThrowsAsync<HubException>(() => alice.InvokeAsync("Throw", Ct));
        var bobAnswer = await bob.InvokeAsync<string>("WhoAmI", Ct);
        var aliceAgain = await alice.InvokeAsync<string>("WhoAmI", Ct);

        Assert.StartsWith("bob|", bobAnswer, StringComparison.Ordinal);
        Assert.StartsWith("alice|", aliceAgain, StringComparison.Ordinal);
        var throwing = host.Services.GetRequiredService<HubProbe>().Scopes.First();
        await Poll.UntilAsync(() => throwing.IsDisposed, "the failed invocation's scope is disposed");
    }

    [Fact]
    public async Task InvokeMethodAsync_AsyncEnumerableStream_ScopeCurrentAndAliveUntilStreamCompletes()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var alice = await host.ConnectedAsync("alice");
        var probe = host.Services.GetRequiredService<HubProbe>();

        var items = new List<string>();
        await using var stream = alice.StreamAsync<string>("Count", 3, Ct).GetAsyncEnumerator(Ct);
        Assert.True(await stream.MoveNextAsync());
        items.Add(stream.Current);
        var scope = Assert.Single(probe.Scopes);
        Assert.False(scope.IsDisposed); // the method returned long ago; the stream is still open
        probe.StreamGate.SetResult();
        while (await stream.MoveNextAsync())
        {
            items.Add(stream.Current);
        }

        Assert.Equal(["alice:True:False", "alice:True:False", "alice:True:False"], items);
        await Poll.UntilAsync(() => scope.IsDisposed, "the stream's scope is disposed when the stream completes");
    }

    [Fact]
    public async Task InvokeMethodAsync_ChannelReaderStream_ScopeAliveUntilStreamCompletes()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var alice = await host.ConnectedAsync("alice");
        var probe = host.Services.GetRequiredService<HubProbe>();

        var reader = await alice.StreamAsChannelAsync<string>("CountChannel", 3, Ct);
        var first = await reader.ReadAsync(Ct);
        var scope = Assert.Single(probe.Scopes);
        Assert.False(scope.IsDisposed);
        probe.StreamGate.SetResult();
        var rest = new List<string>();
        await foreach (var item in reader.ReadAllAsync(Ct))
        {
            rest.Add(item);
        }

        Assert.Equal("alice:True:False", first);
        Assert.Equal(["alice:True:False", "alice:True:False"], rest);
        await Poll.UntilAsync(() => scope.IsDisposed, "the channel stream's scope is disposed when the channel completes");
    }

    [Fact]
    public async Task InvokeMethodAsync_StreamCancelledByClient_ScopeDisposed()
    {
        await using var host = await SignalRHosts.StartAsync();
        await using var alice = await host.ConnectedAsync("alice");
        var probe = host.Services.GetRequiredService<HubProbe>();

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var stream = alice.StreamAsync<string>("Count", 3, cancel.Token).GetAsyncEnumerator(cancel.Token);
        Assert.True(await stream.MoveNextAsync());
        var scope = Assert.Single(probe.Scopes);
        cancel.Cancel(); // the stream waits at the gate, which never opens

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await stream.MoveNextAsync());
        await Poll.UntilAsync(() => scope.IsDisposed, "a cancelled stream's scope is disposed");
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task InvokeMethodAsync_ConnectionClosesDuringStream_ScopeAbortedAndDisposed()
    {
        await using var host = await SignalRHosts.StartAsync();
        var alice = await host.ConnectedAsync("alice");
        var probe = host.Services.GetRequiredService<HubProbe>();

        var stream = alice.StreamAsync<string>("Count", 3, Ct).GetAsyncEnumerator(Ct);
        Assert.True(await stream.MoveNextAsync());
        var scope = Assert.Single(probe.Scopes);
        await alice.DisposeAsync();

        await Poll.UntilAsync(() => scope.IsDisposed, "the scope of a stream whose connection closed is disposed");
    }

    [Theory]
    [InlineData("/retain")] // RetainingHub: the agent in a static of its own type (ISO002 at compile time)
    [InlineData("/retain-object")] // ObjectRetainingHub: the agent in a static object of the hub (ISO005 at compile time)
    public async Task InvokeMethodAsync_HubKeepsAgentInStatic_NextUserIsStoppedWithViolation(string path)
    {
        RetainingHub.Kept = null;
        ObjectRetainingHub.Last = null;
        await using var host = await SignalRHosts.StartAsync();
        await using var alice = await host.ConnectedAsync("alice", path);
        await using var bob = await host.ConnectedAsync("bob", path);
        var monitor = host.Services.GetRequiredService<IsolationMonitor>();

        Assert.Equal("alice", await alice.InvokeAsync<string>("Owner", Ct));
        var ex = await Assert.ThrowsAsync<HubException>(() => bob.InvokeAsync<string>("Owner", Ct));

        Assert.Matches(@"isolation violation \((use_after_dispose|cross_scope_access|use_after_return)\)", ex.Message);
        Assert.DoesNotContain("alice", ex.Message, StringComparison.Ordinal); // the client never learns whose agent it was
        Assert.True(monitor.TotalViolations >= 1);
        RetainingHub.Kept = null;
        ObjectRetainingHub.Last = null;
    }

    [Fact]
    public async Task OnConnectedAsync_OverTheConnectionLimit_ClosedWithTheReasonOthersUnaffected()
    {
        await using var host = await SignalRHosts.StartAsync(s => s.Configure<EventDeliveryOptions>(o => o.MaxConnectionsPerUser = 1));
        await using var first = await host.ConnectedAsync("alice");
        await using var extra = host.Connect("/chat", "alice");
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        extra.Closed += error =>
        {
            closed.TrySetResult(error);
            return Task.CompletedTask;
        };

        try
        {
            await extra.StartAsync(Ct);
        }
        catch (Exception ex) when (ex is HubException or InvalidOperationException or IOException)
        {
            closed.TrySetResult(ex);
        }

        var error = await closed.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await using var bob = await host.ConnectedAsync("bob");

        Assert.NotNull(error);
        Assert.Contains("Too many connections: at most 1 per user. Close another connection first.", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, host.Services.GetRequiredService<IConnectionRegistry>().GetConnectionCount("alice"));
        Assert.StartsWith("alice|", await first.InvokeAsync<string>("WhoAmI", Ct), StringComparison.Ordinal);
        Assert.StartsWith("bob|", await bob.InvokeAsync<string>("WhoAmI", Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnConnectedAsync_RegisterConnectionsFalse_NoConnectionRegisteredButScopesStillOpen()
    {
        await using var host = await SignalRHosts.StartAsync(s => s.AddSignalR().AddIsolation(o => o.RegisterConnections = false));
        await using var alice = await host.ConnectedAsync("alice");

        Assert.StartsWith("alice|", await alice.InvokeAsync<string>("WhoAmI", Ct), StringComparison.Ordinal);
        Assert.Equal(0, host.Services.GetRequiredService<IConnectionRegistry>().ConnectionCount);
    }

    [Theory]
    [InlineData("ClientMethod")]
    [InlineData("InvocationDeadline")]
    public async Task AddIsolation_InvalidOption_HostStartFailsNamingIt(string option)
    {
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => SignalRHosts.StartAsync(s => s.AddSignalR().AddIsolation(o =>
        {
            if (option == "ClientMethod")
            {
                o.ClientMethod = "";
            }
            else
            {
                o.InvocationDeadline = TimeSpan.Zero;
            }
        })));

        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddIsolation_CalledTwice_OneFilterOneScopePerInvocation()
    {
        await using var host = await SignalRHosts.StartAsync(s => s.AddSignalR().AddIsolation().AddIsolation());
        await using var alice = await host.ConnectedAsync("alice");

        await alice.InvokeAsync<string>("WhoAmI", Ct);

        var monitor = host.Services.GetRequiredService<IsolationMonitor>();
        await Poll.UntilAsync(() => monitor.FinishedScopes == 1, "exactly one scope finished");
        Assert.Equal(1, host.Services.GetRequiredService<IConnectionRegistry>().GetConnectionCount("alice"));
    }
}
