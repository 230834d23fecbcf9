using Isolation.Analyzers.Rules;

namespace Isolation.Analyzers.Tests.RealTypes;

/// <summary>
/// Every rule whose subject an Agent Framework or Semantic Kernel type can be, over the real assemblies (no stubs): the
/// conversation state (<c>AgentSession</c>, <c>ChatHistory</c>, mutable collections of <c>ChatMessage</c>) is flagged,
/// the shared-by-design types (<c>AIAgent</c>, <c>ChatClientAgent</c>, <c>IChatClient</c>, a <c>Kernel</c> used
/// read-only) stay silent.
/// </summary>
public sealed class AgentFrameworkRealTypesRuleTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Net.WebSockets;
        using System.Threading;
        using System.Threading.Tasks;
        using Microsoft.Agents.AI;
        using Microsoft.Extensions.AI;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.SemanticKernel;
        using Microsoft.SemanticKernel.ChatCompletion;

        """;

    [Fact]
    public async Task ISO001_ISO101_SingletonRegistrations_ConversationStateReportedSharedTypesSilent()
    {
        await RealTypesVerifier<SingletonRegistrationAnalyzer>.VerifyAsync(Usings + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services, IChatClient client)
                {
                    // Conversation state: one per user and conversation, never one per process (ISO101).
                    {|ISO101:services.AddSingleton<ChatHistory>()|};
                    {|ISO101:services.AddSingleton(new ChatHistory())|};
                    {|ISO101:services.AddSingleton<AgentSession>(sp => sp.GetRequiredService<AIAgent>().CreateSessionAsync().AsTask().GetAwaiter().GetResult())|};
                    {|ISO101:services.AddSingleton<List<ChatMessage>>()|};

                    // Shared by design: stateless agents, model clients, a kernel (ISO001 does not apply to them).
                    services.AddSingleton(client);
                    services.AddSingleton<AIAgent>(sp => new ChatClientAgent(sp.GetRequiredService<IChatClient>(), name: "support"));
                    services.AddSingleton(sp => new ChatClientAgent(sp.GetRequiredService<IChatClient>(), name: "triage"));
                    services.AddSingleton(sp => Kernel.CreateBuilder().Build());
                    services.AddKernel();
                }
            }
            """);
    }

    [Fact]
    public async Task ISO002_ISO102_StaticMembers_ConversationStateReportedSharedTypesSilent()
    {
        await RealTypesVerifier<StaticStateAnalyzer>.VerifyAsync(Usings + """
            public static class Shared
            {
                // ISO002 is about Isolation agents: an AIAgent, a ChatClientAgent, a model client and a kernel are shareable.
                public static readonly AIAgent? Agent = null;
                public static readonly ChatClientAgent? ChatAgent = null;
                public static readonly IChatClient? Client = null;
                public static readonly Kernel Kernel = Kernel.CreateBuilder().Build();
                public static readonly IReadOnlyList<ChatMessage> FewShot = Array.Empty<ChatMessage>();

                // Conversation state in a static: every user's (ISO102).
                private static readonly Dictionary<string, AgentSession> {|ISO102:Sessions|} = new();
                private static readonly Dictionary<string, List<ChatMessageContent>> {|ISO102:Threads|} = new();
            }
            """);
    }

    [Fact]
    public async Task ISO003_ISO006_ISO007_SingletonGrowingChatMessageListAndAssignedSession_Reported()
    {
        await RealTypesVerifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            // The bug of public samples: a chat service registered as a singleton keeps "the" history, and every user's
            // request appends to it and sends all of it to the model.
            public sealed class ChatService
            {
                private readonly IChatClient _client;
                private readonly List<ChatMessage> {|ISO003:_history|} = new();
                private AgentSession? {|ISO003:_current|};
                private int {|ISO007:_requests|}; // a counter is a warning, not an error

                public ChatService(IChatClient client) => _client = client;

                public async Task<string> AskAsync(string question, AIAgent agent)
                {
                    _history.Add(new ChatMessage(ChatRole.User, question));
                    var response = await _client.GetResponseAsync(_history);
                    _history.AddMessages(response);
                    _current = await agent.CreateSessionAsync();
                    _requests++;
                    return response.Text;
                }
            }

            // A singleton with request state that is no conversation: the collection and field rules still apply.
            public sealed class Stats
            {
                private readonly List<string> {|ISO006:_questions|} = new();
                private string? {|ISO007:_last|};
                public void Record(string question) { _questions.Add(question); _last = question; }
            }

            public static class Registration
            {
                public static void Add(IServiceCollection services)
                {
                    services.AddSingleton<ChatService>();
                    services.AddSingleton<Stats>();
                }
            }
            """);
    }

    [Fact]
    public async Task ISO003_SingletonKernelAgentAndClientUsedReadOnly_NoDiagnostic()
    {
        await RealTypesVerifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class Assistant
            {
                private readonly Kernel _kernel;
                private readonly AIAgent _agent;
                private readonly ChatClientAgent _triage;
                private readonly IChatClient _client;
                private readonly IReadOnlyList<ChatMessage> _fewShot = new[] { new ChatMessage(ChatRole.System, "be brief") };

                public Assistant(Kernel kernel, AIAgent agent, ChatClientAgent triage, IChatClient client)
                {
                    _kernel = kernel; _agent = agent; _triage = triage; _client = client;
                }

                // The per-request state is local: a new history and a new session per call.
                public async Task<string> AskAsync(string question)
                {
                    var history = new ChatHistory();
                    history.AddUserMessage(question);
                    var session = await _agent.CreateSessionAsync();
                    var answer = await _agent.RunAsync(question, session);
                    var messages = _fewShot.Append(new ChatMessage(ChatRole.User, question)).ToList();
                    var direct = await _client.GetResponseAsync(messages);
                    return answer.Text + direct.Text + _triage.Name + _kernel.Plugins.Count;
                }
            }

            public static class Registration
            {
                public static void Add(IServiceCollection services) => services.AddSingleton<Assistant>();
            }
            """);
    }

    [Fact]
    public async Task ISO004_NewChatClientAgentAndKernel_NoDiagnostic()
    {
        await RealTypesVerifier<AgentCreationAnalyzer>.VerifyAsync(Usings + """
            public sealed class Setup
            {
                // ISO004 is about Isolation agents (created per request by a factory); an AIAgent is built once and shared.
                public AIAgent Build(IChatClient client)
                {
                    var agent = new ChatClientAgent(client, name: "support");
                    var kernel = new Kernel();
                    return agent.AsBuilder().Build();
                }
            }
            """);
    }

    [Fact]
    public async Task ISO103_AgentSessionAndChatHistoryLocals_NoDiagnostic()
    {
        await RealTypesVerifier<UndisposedSessionAnalyzer>.VerifyAsync(Usings + """
            public sealed class Turn
            {
                // Neither is disposable: nothing to dispose, nothing to report.
                public async Task<string> RunAsync(AIAgent agent, string question)
                {
                    var session = await agent.CreateSessionAsync();
                    var history = new ChatHistory();
                    history.AddUserMessage(question);
                    var response = await agent.RunAsync(question, session);
                    return response.Text + history.Count;
                }
            }
            """);
    }

    [Fact]
    public async Task ISO104_AgentSessionUsedByFireAndForgetRun_Reported()
    {
        await RealTypesVerifier<FireAndForgetSessionAnalyzer>.VerifyAsync(Usings + """
            public sealed class ChatEndpoint
            {
                public async Task PostAsync(AIAgent agent, string question)
                {
                    var session = await agent.CreateSessionAsync();
                    _ = {|ISO104:Task.Run(() => agent.RunAsync(question, session))|};
                    _ = {|ISO104:agent.RunAsync(question, session)|};

                    // Awaited: the request waits for its own run.
                    await agent.RunAsync(question, session);
                }
            }
            """);
    }

    [Fact]
    public async Task ISO201_AgentUpdatesAndChatMessagesBroadcastToEveryWebSocket_Reported()
    {
        await RealTypesVerifier<BroadcastAnalyzer>.VerifyAsync(Usings + """
            public sealed class SocketHub
            {
                private readonly List<WebSocket> _sockets = new();

                public async Task BroadcastAsync(object payload)
                {
                    var bytes = System.Text.Encoding.UTF8.GetBytes(payload.ToString() ?? "");
                    foreach (var socket in _sockets) await socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
                }
            }

            public sealed class ChatRelay
            {
                private readonly SocketHub _hub;
                public ChatRelay(SocketHub hub) => _hub = hub;

                public async Task StreamAsync(AIAgent agent, AgentSession session, string question, ChatMessage message)
                {
                    await foreach (var update in agent.RunStreamingAsync(question, session))
                    {
                        await {|ISO201:_hub.BroadcastAsync(update.Text)|};
                    }

                    await {|ISO201:_hub.BroadcastAsync(message)|};

                    // Not a conversation: a maintenance notice may go to everyone.
                    await _hub.BroadcastAsync("maintenance at noon");
                }
            }
            """);
    }
}
