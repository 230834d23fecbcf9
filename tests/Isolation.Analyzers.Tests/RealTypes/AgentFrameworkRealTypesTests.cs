using Isolation.Analyzers.Rules;

namespace Isolation.Analyzers.Tests.RealTypes;

/// <summary>The rules over the real Agent Framework and Semantic Kernel types, not stubs of them.</summary>
public sealed class AgentFrameworkRealTypesTests
{
    private const string Usings = """
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Microsoft.Agents.AI;
        using Microsoft.Extensions.AI;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.SemanticKernel;
        using Microsoft.SemanticKernel.ChatCompletion;

        """;

    [Fact]
    public async Task SingletonHeldState_SharedByDesignAgentFrameworkTypes_NoDiagnostic()
    {
        await RealTypesVerifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class AgentHost
            {
                private readonly AIAgent _agent;
                private readonly ChatClientAgent _chatAgent;
                private readonly IChatClient _client;
                private readonly Kernel _kernel;
                public AgentHost(AIAgent agent, ChatClientAgent chatAgent, IChatClient client, Kernel kernel)
                {
                    _agent = agent; _chatAgent = chatAgent; _client = client; _kernel = kernel;
                }

                public string Name => _agent.Name + _chatAgent.Name + _kernel.Plugins.Count;
            }

            public static class Registration
            {
                public static void Add(IServiceCollection services) => services.AddSingleton<AgentHost>();
            }
            """);
    }

    [Fact]
    public async Task SingletonHeldState_ConversationsInASingleton_ReportsISO003()
    {
        await RealTypesVerifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class ConversationCache
            {
                private readonly ConcurrentDictionary<string, AgentSession> {|ISO003:_sessions|} = new();
                private readonly Dictionary<string, ChatHistory> {|ISO003:_histories|} = new();
                private readonly List<ChatMessage> {|ISO003:_history|} = new();

                // The bug of public samples: one list of messages, grown by every request of every user.
                public void Add(string text) => _history.Add(new ChatMessage(ChatRole.User, text));
            }

            public static class Registration
            {
                public static void Add(IServiceCollection services) => services.AddSingleton<ConversationCache>();
            }
            """);
    }

    [Fact]
    public async Task StaticState_ConversationsInStatics_ReportsISO102()
    {
        await RealTypesVerifier<StaticStateAnalyzer>.VerifyAsync(Usings + """
            public static class Conversations
            {
                private static AgentSession? {|ISO102:_session|};
                private static readonly ChatHistory {|ISO102:History|} = new();
                private static readonly List<ChatMessage> {|ISO102:Messages|} = new();
                private static readonly AIAgent? SharedAgent = null;
                private static readonly IChatClient? SharedClient = null;
            }
            """);
    }
}
