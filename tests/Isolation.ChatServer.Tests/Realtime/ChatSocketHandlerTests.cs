using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using ChatServer.Agents;
using ChatServer.Tests.Infrastructure;
using Isolation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatServer.Tests.Realtime;

/// <summary>The WebSocket protocol against the real server: identity from the token only, events of one's own runs only.</summary>
public sealed class ChatSocketHandlerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Connect_WithoutToken_Returns401()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<WebSocketException>(() => TestSocket.ConnectAsync(server.SocketUri(null), Ct));
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_TokenWithOtherUserSwappedIn_Returns401()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var token = await server.LoginAsync("alice", Ct);

        // Keep alice's JWT signature, claim bob: the signature no longer matches the payload.
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]));
        Assert.Contains("\"sub\":\"alice\"", payload, StringComparison.Ordinal);
        var forged = parts[0] + "." + System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.Replace("alice", "bob", StringComparison.Ordinal))) + "." + parts[2];

        var error = await Assert.ThrowsAsync<WebSocketException>(() => TestSocket.ConnectAsync(server.SocketUri(forged), Ct));
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_TokenOfAnotherServer_Returns401()
    {
        await using var first = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var second = await TestChatServer.StartAsync(cancellationToken: Ct);
        var token = await first.LoginAsync("alice", Ct);

        // Each server made its own random key: a token is only good where it was signed.
        var error = await Assert.ThrowsAsync<WebSocketException>(() => TestSocket.ConnectAsync(second.SocketUri(token), Ct));
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_PlainHttpRequest_Returns400()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        using var response = await server.Http.GetAsync(new Uri("/ws", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Chat_ValidMessage_StepsInSequenceThenExactlyOneCompleted()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);

        await alice.SendAsync(new { type = "chat", runId = "r-1", text = "What is the weather in Lisbon?" }, Ct);
        var events = await alice.RunEventsAsync("r-1", Ct);

        Assert.Equal(
            [AgentEventTypes.AgentStarted, AgentEventTypes.AgentThinking, AgentEventTypes.ToolExecuting, AgentEventTypes.ToolCompleted, AgentEventTypes.AgentThinking, ChatEventTypes.Answer, AgentEventTypes.AgentCompleted],
            events.Select(e => e.Type));
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.All(events, e => Assert.Equal("alice", e.UserId));
        Assert.Equal("get_weather", events[2].PayloadString("tool"));
        Assert.StartsWith("Here is what I found: Lisbon:", events[5].PayloadString("text"), StringComparison.Ordinal);
        Assert.Equal("completed", events[^1].PayloadString("status"));
    }

    [Fact]
    public async Task Chat_UserIdInMessageBody_IgnoredAndRunBelongsToTokenUser()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);
        await using var bob = await server.ConnectAsync("bob", Ct);

        await alice.SendAsync(new { type = "chat", runId = "claim", userId = "bob", text = "How many messages are in my history?" }, Ct);
        var events = await alice.RunEventsAsync("claim", Ct);

        Assert.All(events, e => Assert.Equal("alice", e.UserId));
        Assert.Equal("completed", events[^1].PayloadString("status"));

        // Bob's own run afterwards: his socket sees it, and nothing of alice's before it.
        await bob.SendAsync(new { type = "chat", runId = "mine", text = "What time is it?" }, Ct);
        await bob.RunEventsAsync("mine", Ct);
        Assert.DoesNotContain(bob.All, e => e.RunId == "claim" || e.UserId != "bob");
    }

    [Fact]
    public async Task Cancel_RunOfAnotherUser_RefusedAndThatRunCompletes()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);
        await using var bob = await server.ConnectAsync("bob", Ct);

        await alice.SendAsync(new { type = "chat", runId = "long", text = "Tell me about isolation. #slow" }, Ct);
        await alice.NextAsync(e => e.RunId == "long" && e.Type == AgentEventTypes.ToolExecuting, Ct);
        await bob.SendAsync(new { type = "cancel", runId = "long" }, Ct);

        var refused = await bob.NextAsync(e => e.Type == ChatEventTypes.ProtocolError, Ct);
        Assert.Equal("unknown_run", refused.PayloadString("code"));
        var aliceEvents = await alice.RunEventsAsync("long", Ct);
        Assert.Equal(AgentEventTypes.AgentCompleted, aliceEvents[^1].Type);
    }

    [Fact]
    public async Task Cancel_OwnRun_EndsCancelledWithOneTerminalEvent()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);

        await alice.SendAsync(new { type = "chat", runId = "stop-me", text = "Tell me about isolation. #hang" }, Ct);
        await alice.NextAsync(e => e.RunId == "stop-me" && e.Type == AgentEventTypes.ToolExecuting, Ct);
        await alice.SendAsync(new { type = "cancel", runId = "stop-me" }, Ct);
        var events = await alice.RunEventsAsync("stop-me", Ct);

        Assert.Equal(AgentEventTypes.AgentFailed, events[^1].Type);
        Assert.Equal("cancelled", events[^1].PayloadString("status"));
        Assert.Single(alice.All, e => e.RunId == "stop-me" && AgentEventTypes.IsTerminal(e.Type));
    }

    [Fact]
    public async Task Chat_SameRunIdFromTwoUsers_EachSeesOnlyTheirOwnRun()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);
        await using var bob = await server.ConnectAsync("bob", Ct);

        await Task.WhenAll(
            alice.SendAsync(new { type = "chat", runId = "r-1", text = "What is the weather in Oslo?" }, Ct),
            bob.SendAsync(new { type = "chat", runId = "r-1", text = "What is the weather in Rome?" }, Ct));
        var aliceEvents = await alice.RunEventsAsync("r-1", Ct);
        var bobEvents = await bob.RunEventsAsync("r-1", Ct);

        Assert.All(aliceEvents, e => Assert.Equal("alice", e.UserId));
        Assert.All(bobEvents, e => Assert.Equal("bob", e.UserId));
        Assert.Contains("Oslo", aliceEvents.Single(e => e.Type == ChatEventTypes.Answer).PayloadString("text"), StringComparison.Ordinal);
        Assert.Contains("Rome", bobEvents.Single(e => e.Type == ChatEventTypes.Answer).PayloadString("text"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_SecondTabOfSameUser_SeesTheRunToo()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var tab1 = await server.ConnectAsync("alice", Ct);
        await using var tab2 = await server.ConnectAsync("alice", Ct);

        await tab1.SendAsync(new { type = "chat", runId = "both", text = "What time is it?" }, Ct);
        var first = await tab1.RunEventsAsync("both", Ct);
        var second = await tab2.RunEventsAsync("both", Ct);

        Assert.Equal(first.Select(e => e.Sequence), second.Select(e => e.Sequence));
    }

    [Theory]
    [InlineData("not json", "invalid_json")]
    [InlineData("{\"type\":\"shout\"}", "unknown_type")]
    [InlineData("{\"type\":\"chat\",\"text\":\"   \"}", "invalid_text")]
    [InlineData("{\"type\":\"chat\",\"text\":\"hi\",\"runId\":\"has spaces\"}", "invalid_id")]
    [InlineData("{\"type\":\"cancel\",\"runId\":\"nothing-running\"}", "unknown_run")]
    public async Task Dispatch_BadMessage_ProtocolErrorAndConnectionStaysUsable(string message, string code)
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);

        await alice.SendRawAsync(message, Ct);
        var error = await alice.NextAsync(e => e.Type == ChatEventTypes.ProtocolError, Ct);
        Assert.Equal(code, error.PayloadString("code"));
        Assert.Equal("alice", error.UserId);

        await alice.SendAsync(new { type = "chat", runId = "after", text = "What time is it?" }, Ct);
        Assert.Equal(AgentEventTypes.AgentCompleted, (await alice.RunEventsAsync("after", Ct))[^1].Type);
    }

    [Fact]
    public async Task ReadyAndProtocolErrors_SentWithoutAScope_DoNotChangeTheScore()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var token = await server.LoginAsync("alice", Ct);
        var scopesBefore = server.Monitor.FinishedScopes;

        await using var alice = await TestSocket.ConnectAsync(server.SocketUri(token), Ct);
        var ready = await alice.NextAsync(e => e.Type == "ready", Ct);
        foreach (var bad in new[] { "not json", "{\"type\":\"shout\"}", "{\"type\":\"cancel\",\"runId\":\"none\"}" })
        {
            await alice.SendRawAsync(bad, Ct);
            var error = await alice.NextAsync(e => e.Type == ChatEventTypes.ProtocolError, Ct);
            Assert.Equal(0, error.Sequence);
        }

        Assert.Equal("alice", ready.UserId);
        Assert.Equal(0, ready.Sequence);
        Assert.Equal(scopesBefore, server.Monitor.FinishedScopes);
        Assert.Equal(1d, server.Monitor.GetScore());
    }

    [Fact]
    public async Task Dispatch_RunIdAlreadyInProgress_DuplicateRefused()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);

        await alice.SendAsync(new { type = "chat", runId = "twice", text = "Tell me about isolation. #slow" }, Ct);
        await alice.NextAsync(e => e.RunId == "twice" && e.Type == AgentEventTypes.AgentStarted, Ct);
        await alice.SendAsync(new { type = "chat", runId = "twice", text = "again" }, Ct);

        var error = await alice.NextAsync(e => e.Type == ChatEventTypes.ProtocolError, Ct);
        Assert.Equal("duplicate_run", error.PayloadString("code"));
        await alice.RunEventsAsync("twice", Ct);
        Assert.Single(alice.All, e => e.RunId == "twice" && AgentEventTypes.IsTerminal(e.Type));
    }

    [Fact]
    public async Task Receive_MessageOver8KB_ClosedWithMessageTooBig()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);

        await alice.SendRawAsync("{\"type\":\"chat\",\"text\":\"" + new string('x', 9000) + "\"}", Ct);
        await alice.WaitForCloseAsync(Ct);

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, alice.CloseStatus);
    }

    [Fact]
    public async Task Connect_MoreSocketsThanTheSampleAllowsPerUser_ExtraClosedWithPolicyViolationOthersWork()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var limit = server.Services.GetRequiredService<IOptions<EventDeliveryOptions>>().Value.MaxConnectionsPerUser;
        Assert.Equal(8, limit); // samples/ChatServer/appsettings.json: Isolation:Events:MaxConnectionsPerUser
        var alice = new List<TestSocket>();
        try
        {
            for (var i = 0; i < limit; i++)
            {
                alice.Add(await server.ConnectAsync("alice", Ct));
            }

            var token = await server.LoginAsync("alice", Ct);
            await using var extra = await TestSocket.ConnectAsync(server.SocketUri(token), Ct);
            await extra.WaitForCloseAsync(Ct);
            await using var bob = await server.ConnectAsync("bob", Ct);

            Assert.Equal(WebSocketCloseStatus.PolicyViolation, extra.CloseStatus);
            Assert.Equal($"Too many connections: at most {limit} per user. Close another connection first.", extra.CloseStatusDescription);
            Assert.DoesNotContain(extra.All, e => e.Type == "ready");
            Assert.Equal(limit, server.Services.GetRequiredService<IConnectionRegistry>().GetConnectionCount("alice"));

            // Alice's accepted sockets still work, and a socket that leaves makes room again.
            await alice[0].SendAsync(new { type = "chat", runId = "still", text = "What time is it?" }, Ct);
            Assert.Equal(AgentEventTypes.AgentCompleted, (await alice[0].RunEventsAsync("still", Ct))[^1].Type);
            await alice[^1].CloseAsync(Ct);
            await alice[^1].DisposeAsync();
            alice.RemoveAt(alice.Count - 1);
            await Poll.UntilAsync(() => server.Services.GetRequiredService<IConnectionRegistry>().GetConnectionCount("alice") < limit, "alice's closed socket has left the registry");
            alice.Add(await server.ConnectAsync("alice", Ct));
        }
        finally
        {
            foreach (var socket in alice)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Chat_MoreRunsThanThePerUserLimit_ExtraRunRejectedOthersComplete()
    {
        await using var server = await TestChatServer.StartAsync(new Dictionary<string, string?> { ["Isolation:Runner:MaxConcurrentRunsPerUser"] = "2" }, Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);

        // Two hanging runs hold both of alice's slots until they are cancelled.
        await alice.SendAsync(new { type = "chat", runId = "h1", text = "Tell me about isolation. #hang" }, Ct);
        await alice.SendAsync(new { type = "chat", runId = "h2", text = "Tell me about isolation. #hang" }, Ct);
        var hanging = new HashSet<string>(StringComparer.Ordinal);
        while (hanging.Count < 2)
        {
            // Both runs are inside their tool, in whichever order they got there.
            hanging.Add((await alice.NextAsync(e => e.Type == AgentEventTypes.ToolExecuting, Ct)).RunId!);
        }

        await alice.SendAsync(new { type = "chat", runId = "third", text = "What time is it?" }, Ct);

        var rejected = await alice.NextAsync(e => e.RunId == "third", Ct);
        Assert.Equal(AgentEventTypes.AgentRejected, rejected.Type);

        // Another user is not limited by alice's runs.
        await using var bob = await server.ConnectAsync("bob", Ct);
        await bob.SendAsync(new { type = "chat", runId = "b", text = "What time is it?" }, Ct);
        Assert.Equal(AgentEventTypes.AgentCompleted, (await bob.RunEventsAsync("b", Ct))[^1].Type);

        await alice.SendAsync(new { type = "cancel", runId = "h1" }, Ct);
        await alice.SendAsync(new { type = "cancel", runId = "h2" }, Ct);
        await alice.RunEventsAsync("h1", Ct);
    }

    [Fact]
    public async Task Disconnect_WithRunInProgress_RunCancelledAndServerDrains()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var watcher = await server.ConnectAsync("alice", Ct);
        var tab = await server.ConnectAsync("alice", Ct);

        await tab.SendAsync(new { type = "chat", runId = "gone", text = "Tell me about isolation. #hang" }, Ct);
        await watcher.NextAsync(e => e.RunId == "gone" && e.Type == AgentEventTypes.ToolExecuting, Ct);
        await tab.DisposeAsync(); // aborts: no close handshake

        var events = await watcher.RunEventsAsync("gone", Ct);
        Assert.Equal("cancelled", events[^1].PayloadString("status"));
        await server.Runs.WaitForIdleAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(0, server.Monitor.TotalViolations);
    }

    [Fact]
    public async Task History_EachUserReadsOnlyTheirOwnMessages()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);
        await using var bob = await server.ConnectAsync("bob", Ct);
        await alice.SendAsync(new { type = "chat", runId = "a", text = "alice secret: How do refunds work?" }, Ct);
        await alice.RunEventsAsync("a", Ct);
        await bob.SendAsync(new { type = "chat", runId = "b", text = "bob question: What time is it?" }, Ct);
        await bob.RunEventsAsync("b", Ct);

        var aliceHistory = await HistoryAsync(server, await server.LoginAsync("alice", Ct));
        var bobHistory = await HistoryAsync(server, await server.LoginAsync("bob", Ct));

        Assert.Contains("alice secret", aliceHistory, StringComparison.Ordinal);
        Assert.DoesNotContain("bob question", aliceHistory, StringComparison.Ordinal);
        Assert.Contains("bob question", bobHistory, StringComparison.Ordinal);
        Assert.DoesNotContain("alice secret", bobHistory, StringComparison.Ordinal);

        using var anonymous = await server.Http.GetAsync(new Uri("/api/history", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private static async Task<string> HistoryAsync(TestChatServer server, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/history", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await server.Http.SendAsync(request, Ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(Ct);
    }
}
