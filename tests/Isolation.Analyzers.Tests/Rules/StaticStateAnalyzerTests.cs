using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.Rules;

public sealed class StaticStateAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Collections.Immutable;
        using System.Data.Common;
        using System.Threading;
        using System.Threading.Tasks;
        using Isolation;
        using Microsoft.Extensions.AI;

        """;

    [Fact]
    public async Task Analyze_AgentInStaticFieldsAndProperties_ReportsISO002()
    {
        await Verifier<StaticStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class TriageAgent : IAgent { }
            public interface IPlanner : IAgent { }

            public static class AgentRegistry
            {
                private static TriageAgent? {|ISO002:_current|};
                public static readonly Dictionary<string, TriageAgent> {|ISO002:ByUser|} = new();
                private static readonly ConcurrentDictionary<Guid, Lazy<TriageAgent>> {|ISO002:_lazy|} = new();
                private static Task<TriageAgent>? {|ISO002:_pending|};
                public static IPlanner? {|ISO002:Planner|} { get; set; }
                public static List<TriageAgent[]> {|ISO002:Batches|} { get; } = new();
            }
            """);
    }

    [Fact]
    public async Task Analyze_SessionOrConversationInStaticMember_ReportsISO102()
    {
        await Verifier<StaticStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class AppDb : Microsoft.EntityFrameworkCore.DbContext { }

            public static class Shared
            {
                private static DbConnection? {|ISO102:_connection|};
                private static readonly AppDb {|ISO102:Db|} = new();
                private static readonly List<ChatMessage> {|ISO102:History|} = new();
                private static readonly ConcurrentDictionary<string, Microsoft.SemanticKernel.ChatCompletion.ChatHistory> {|ISO102:Conversations|} = new();
                private static Microsoft.Agents.AI.AgentSession? {|ISO102:Session|} { get; set; }
                private static readonly Dictionary<string, List<Microsoft.SemanticKernel.ChatMessageContent>> {|ISO102:Threads|} = new();
            }
            """);
    }

    [Fact]
    public async Task Analyze_SharedByDesignImmutableAndComputedMembers_NoDiagnostic()
    {
        await Verifier<StaticStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class TriageAgent : IAgent { }
            public sealed class TriageAgentOptions { }
            public sealed class CosmosDbContext<T> { }

            public static class Holder
            {
                private static readonly System.Net.Http.HttpClient Http = new();
                private static Microsoft.Agents.AI.AIAgent? _sharedAgent;
                private static Microsoft.Extensions.AI.IChatClient? _client;
                private static readonly IReadOnlyList<ChatMessage> FewShot = Array.Empty<ChatMessage>();
                private static readonly ChatMessage[] Examples = Array.Empty<ChatMessage>();
                private static readonly ImmutableList<ChatMessage> Seed = ImmutableList<ChatMessage>.Empty;
                private static readonly AsyncLocal<TriageAgent?> Current = new();
                private static IAgentFactory<TriageAgent>? _factory;
                private static Func<TriageAgent>? _create;
                private static TriageAgentOptions? _options;
                private static CosmosDbContext<int>? _cosmos;
                private static System.Data.Common.DbDataSource? _dataSource;
                public static TriageAgent Create => new TriageAgent();
                private const string Name = "agent";
                public static ImmutableArray<TriageAgent> Empty => ImmutableArray<TriageAgent>.Empty;
            }

            public sealed class Instance
            {
                private readonly TriageAgent _agent = new();
            }
            """);
    }

    [Fact]
    public async Task Analyze_MutableStaticStateInHandlers_ReportsISO005()
    {
        await Verifier<StaticStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class TriageAgent : IAgent
            {
                private static int {|ISO005:_runs|};
                private static readonly List<string> {|ISO005:Notes|} = new();
                public static string? {|ISO005:LastUser|} { get; set; }
                private static readonly object Gate = new();
                private static readonly string[] Tools = { "search" };
                private const int Limit = 3;
                private static readonly IReadOnlyDictionary<string, int> Weights = new Dictionary<string, int>();
            }

            public sealed class ChatHub : Microsoft.AspNetCore.SignalR.Hub
            {
                private static readonly ConcurrentDictionary<string, string> {|ISO005:Users|} = new();
            }

            public sealed class OrdersController : Microsoft.AspNetCore.Mvc.Controller
            {
                private static string? {|ISO005:_lastOrder|};
            }

            public sealed class IndexModel : Microsoft.AspNetCore.Mvc.RazorPages.PageModel
            {
                public static int {|ISO005:Visits|} { get; set; }
            }

            public sealed class NotAHandler
            {
                private static int _counter;
                private static readonly List<string> Cache = new();
            }
            """);
    }

    [Fact]
    public async Task Analyze_ConfiguredAgentAndSessionTypes_Reports()
    {
        await Verifier<StaticStateAnalyzer>.VerifyAsync(
            Usings + """
            namespace MyApp
            {
                public abstract class AgentBase { }
                public sealed class Writer : AgentBase { }
                public sealed class Tenant { }
                public sealed class WriterCache { }

                public static class Registry
                {
                    private static Writer? {|ISO002:_writer|};
                    private static readonly List<Tenant> {|ISO102:Tenants|} = new();
                    private static WriterCache? _cache;
                }
            }
            """,
            "isolation.request_scoped_types = MyApp.AgentBase\nisolation.session_types = MyApp.Ten*");
    }

    [Fact]
    public async Task Analyze_IncompleteCode_DoesNotCrash()
    {
        // Error types are never request-scoped; the fields are still mutable static state.
        await Verifier<StaticStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class TriageAgent : IAgent
            {
                private static {|CS0246:Missing|} {|ISO005:_missing|};
                private static List<{|CS0246:Unknown|}> {|ISO005:_list|} = new();
                private static readonly {|CS0246:Missing|} Fixed = null;
            }
            """);
    }
}
