using System.Net.Http.Headers;
using ChatServer.Agents;
using ChatServer.Data;
using ChatServer.Tests.Infrastructure;
using Dapper;
using Isolation;
using Isolation.AgentFramework;
using Microsoft.Agents.AI;
using Microsoft.Extensions.DependencyInjection;

namespace ChatServer.Tests.Agents;

/// <summary>
/// The chat pipeline on the real server: an Agent Framework <see cref="ChatClientAgent"/> behind <see cref="IsolatedAIAgent"/>,
/// conversations in the owner-checked store on the chat database, a conversation id from another user refused.
/// </summary>
public sealed class ChatPipelineTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Agent_IsAChatClientAgentOverTheScriptedModelBehindTheDecorator()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var pipeline = server.Services.GetRequiredService<ChatPipeline>();

        Assert.IsType<IsolatedAIAgent>(pipeline.Agent);
        var chatAgent = pipeline.Agent.GetService<ChatClientAgent>();
        Assert.NotNull(chatAgent);
        Assert.Equal(ChatPipeline.AgentName, chatAgent.Name);
        Assert.Same(pipeline.History, chatAgent.ChatHistoryProvider);
        Assert.NotNull(chatAgent.ChatClient.GetService(typeof(ScriptedChatClient)));
        Assert.IsType<OwnerCheckedAgentSessionStore>(pipeline.Sessions);
    }

    [Fact]
    public async Task Chat_Run_ConversationSavedWithItsOwnerAndToolEventsFromTheDecorator()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);

        await alice.SendAsync(new { type = "chat", runId = "r-1", threadId = "t-alice", text = "What is the weather in Lisbon?" }, Ct);
        var events = await alice.RunEventsAsync("r-1", Ct);

        Assert.Equal("completed", events[^1].PayloadString("status"));
        var executing = events.Single(e => e.Type == AgentEventTypes.ToolExecuting);
        var completed = events.Single(e => e.Type == AgentEventTypes.ToolCompleted);
        Assert.Equal("get_weather", executing.PayloadString("tool"));
        Assert.Equal(executing.PayloadString("callId"), completed.PayloadString("callId"));
        Assert.Null(executing.PayloadString("arguments"));

        var (owner, json) = await StoredAsync(server, "t-alice");
        Assert.Equal("alice", owner);
        Assert.Contains("What is the weather in Lisbon?", json, StringComparison.Ordinal);
        Assert.Contains("Here is what I found: Lisbon:", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_SecondMessage_ModelGetsTheConversationFromTheStore()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);

        await alice.SendAsync(new { type = "chat", runId = "first", threadId = "t-1", text = "How do refunds work?" }, Ct);
        await alice.RunEventsAsync("first", Ct);
        await alice.SendAsync(new { type = "chat", runId = "second", threadId = "t-1", text = "What did I ask before?" }, Ct);
        var events = await alice.RunEventsAsync("second", Ct);
        await alice.SendAsync(new { type = "chat", runId = "other", threadId = "t-2", text = "What did I ask before?" }, Ct);
        var other = await alice.RunEventsAsync("other", Ct);

        Assert.Equal(
            ScriptedChatClient.EarlierPrefix + " \"How do refunds work?\"",
            events.Single(e => e.Type == ChatEventTypes.Answer).PayloadString("text"));
        Assert.Equal(ScriptedChatClient.NothingEarlier, other.Single(e => e.Type == ChatEventTypes.Answer).PayloadString("text"));
    }

    [Fact]
    public async Task Chat_CountTool_CountsTheMessagesOfThisConversation()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);

        await alice.SendAsync(new { type = "chat", runId = "a", threadId = "t-count", text = "What time is it?" }, Ct);
        await alice.RunEventsAsync("a", Ct);
        await alice.SendAsync(new { type = "chat", runId = "b", threadId = "t-count", text = "How many messages are in my history?" }, Ct);
        var events = await alice.RunEventsAsync("b", Ct);

        // The first question and its answer, then this question.
        Assert.Equal("Here is what I found: this conversation has 3 messages.", events.Single(e => e.Type == ChatEventTypes.Answer).PayloadString("text"));
    }

    [Fact]
    public async Task Chat_AnotherUsersConversationId_RefusedCountedAgainstTheAttackerAndNothingLeaks()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);
        await using var bob = await server.ConnectAsync("bob", Ct);
        await alice.SendAsync(new { type = "chat", runId = "a-1", threadId = "t-alice", text = "alice secret: How do refunds work?" }, Ct);
        await alice.RunEventsAsync("a-1", Ct);

        // Load: an empty history, as for an id that does not exist.
        Assert.Equal("[]", await HistoryAsync(server, await server.LoginAsync("bob", Ct), "t-alice"));

        // Continue: the run fails before the model sees a word of alice's conversation.
        await bob.SendAsync(new { type = "chat", runId = "b-1", threadId = "t-alice", text = "What did I ask before?" }, Ct);
        var events = await bob.RunEventsAsync("b-1", Ct);
        Assert.Equal(AgentEventTypes.AgentFailed, events[^1].Type);
        Assert.DoesNotContain(events, e => e.Type is ChatEventTypes.Answer or AgentEventTypes.AgentThinking);
        Assert.DoesNotContain(bob.All, e => e.UserId != "bob");

        Assert.Equal(2, server.Monitor.GetViolationCount(ViolationKind.CrossScopeAccess));
        Assert.Equal(2, server.Monitor.ScopesWithViolations);

        // Alice's conversation is as she left it, and still hers.
        await alice.SendAsync(new { type = "chat", runId = "a-2", threadId = "t-alice", text = "What did I ask before?" }, Ct);
        var answer = (await alice.RunEventsAsync("a-2", Ct)).Single(e => e.Type == ChatEventTypes.Answer).PayloadString("text");
        Assert.Equal(ScriptedChatClient.EarlierPrefix + " \"alice secret: How do refunds work?\"", answer);
        Assert.Equal("alice", (await StoredAsync(server, "t-alice")).Owner);
        Assert.Contains("alice secret", await HistoryAsync(server, await server.LoginAsync("alice", Ct), "t-alice"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Violation_OfAStolenConversationId_NamesTheAttackerAndTheOwnerAsTheOtherParty()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var reported = new List<IsolationViolation>();
        server.Monitor.ViolationDetected += (_, e) => { lock (reported) { reported.Add(e.Violation); } };
        await using var alice = await server.ConnectAsync("alice", Ct);
        await using var bob = await server.ConnectAsync("bob", Ct);
        await alice.SendAsync(new { type = "chat", runId = "a-1", threadId = "t-shared", text = "What time is it?" }, Ct);
        await alice.RunEventsAsync("a-1", Ct);

        await bob.SendAsync(new { type = "chat", runId = "b-1", threadId = "t-shared", text = "What time is it?" }, Ct);
        await bob.RunEventsAsync("b-1", Ct);

        var violation = Assert.Single(reported);
        Assert.Equal(ViolationKind.CrossScopeAccess, violation.Kind);
        Assert.Equal("Microsoft.Agents.AI.AgentSession", violation.ResourceType);
        Assert.Equal("bob", violation.Context!.UserId);
        Assert.Equal("b-1", violation.Context.RunId);
        Assert.Equal("alice", violation.OtherContext!.UserId);
        Assert.DoesNotContain("alice", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_FailedRun_LeavesTheConversationAsItWas()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);
        await alice.SendAsync(new { type = "chat", runId = "ok", threadId = "t-f", text = "How do refunds work?" }, Ct);
        await alice.RunEventsAsync("ok", Ct);

        await alice.SendAsync(new { type = "chat", runId = "broken", threadId = "t-f", text = "What time is it? #fail" }, Ct);
        Assert.Equal(AgentEventTypes.AgentFailed, (await alice.RunEventsAsync("broken", Ct))[^1].Type);
        await alice.SendAsync(new { type = "chat", runId = "ask", threadId = "t-f", text = "What did I ask before?" }, Ct);
        var answer = (await alice.RunEventsAsync("ask", Ct)).Single(e => e.Type == ChatEventTypes.Answer).PayloadString("text");

        Assert.Equal(ScriptedChatClient.EarlierPrefix + " \"How do refunds work?\"", answer);
    }

    [Fact]
    public async Task Chat_TwoToolsInOneModelCall_BothCallsThenBothResults()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);

        await alice.SendAsync(new { type = "chat", runId = "two", text = "What is the weather in Oslo and the time?" }, Ct);
        var events = await alice.RunEventsAsync("two", Ct);

        Assert.Equal(
            [AgentEventTypes.AgentStarted, AgentEventTypes.AgentThinking, AgentEventTypes.ToolExecuting, AgentEventTypes.ToolExecuting,
             AgentEventTypes.ToolCompleted, AgentEventTypes.ToolCompleted, AgentEventTypes.AgentThinking, ChatEventTypes.Answer, AgentEventTypes.AgentCompleted],
            events.Select(e => e.Type));
        Assert.Equal(["get_weather", "get_time"], events.Where(e => e.Type == AgentEventTypes.ToolCompleted).Select(e => e.PayloadString("tool")));
    }

    [Fact]
    public async Task Chat_TwoRunsAtOnceOnOneConversation_TakeTurnsAndTheLaterSaveFailsKeepingTheFirst()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);
        await alice.SendAsync(new { type = "chat", runId = "start", threadId = "t-race", text = "How do refunds work?" }, Ct);
        await alice.RunEventsAsync("start", Ct);

        // Two loads the conversation while one is inside its slow tool: both hold the same version.
        await alice.SendAsync(new { type = "chat", runId = "one", threadId = "t-race", text = "Tell me about isolation. #slow" }, Ct);
        await alice.NextAsync(e => e.RunId == "one" && e.Type == AgentEventTypes.ToolExecuting, Ct);
        await alice.SendAsync(new { type = "chat", runId = "two", threadId = "t-race", text = "Tell me about isolation. #slow" }, Ct);
        var one = await alice.RunEventsAsync("one", Ct);
        var two = await alice.RunEventsAsync("two", Ct);

        Assert.Equal(AgentEventTypes.AgentCompleted, one[^1].Type);
        Assert.Equal(AgentEventTypes.AgentFailed, two[^1].Type);
        var all = alice.All.ToList();
        Assert.True(
            all.FindIndex(e => e.RunId == "two" && e.Type == AgentEventTypes.ToolExecuting) > all.FindIndex(e => e.RunId == "one" && e.Type == AgentEventTypes.ToolCompleted),
            "run two called its tool before run one's tool completed: the runs did not take turns");
        Assert.Equal(0, server.Monitor.TotalViolations);
        await alice.SendAsync(new { type = "chat", runId = "ask", threadId = "t-race", text = "What did I ask before?" }, Ct);
        var answer = (await alice.RunEventsAsync("ask", Ct)).Single(e => e.Type == ChatEventTypes.Answer).PayloadString("text");
        Assert.Equal(ScriptedChatClient.EarlierPrefix + " \"How do refunds work?\" \"Tell me about isolation. #slow\"", answer);
    }

    [Fact]
    public async Task History_BadThreadId_Returns400()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/history?threadId=has%20spaces", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await server.LoginAsync("alice", Ct));
        using var response = await server.Http.SendAsync(request, Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static async Task<(string Owner, string Json)> StoredAsync(TestChatServer server, string conversationId)
    {
        await using var connection = await server.Services.GetRequiredService<ChatDatabase>().OpenAsync(Ct);
        var row = await connection.QuerySingleAsync<(string, string)>(new CommandDefinition(
            "SELECT owner_id, session_json FROM isolation_agent_sessions WHERE conversation_key = @Key",
            new { Key = conversationId },
            cancellationToken: Ct));
        return row;
    }

    private static async Task<string> HistoryAsync(TestChatServer server, string token, string threadId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/history?threadId=" + threadId, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await server.Http.SendAsync(request, Ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(Ct);
    }
}
