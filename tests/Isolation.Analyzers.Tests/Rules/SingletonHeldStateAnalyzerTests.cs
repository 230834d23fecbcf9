using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.Rules;

public sealed class SingletonHeldStateAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Data.Common;
        using System.Threading;
        using System.Threading.Tasks;
        using Isolation;
        using Microsoft.AspNetCore.Http;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;

        """;

    [Fact]
    public async Task Analyze_RegisteredSingletonHoldingAgentsAndSessions_ReportsISO003()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class TriageAgent : IAgent { }

            public class AgentRegistryBase
            {
                protected readonly Dictionary<string, TriageAgent> {|ISO003:_byUser|} = new();
            }

            public sealed class AgentRegistry : AgentRegistryBase
            {
                private readonly ConcurrentDictionary<string, DbConnection> {|ISO003:_connections|} = new();
                public TriageAgent? {|ISO003:Current|} { get; set; }
                private readonly List<Microsoft.Extensions.AI.ChatMessage> {|ISO003:_history|} = new();
                private readonly System.Net.Http.HttpClient _http = new();
            }

            public interface IChatStore { }
            public sealed class ChatStore : IChatStore
            {
                private readonly Microsoft.SemanticKernel.ChatCompletion.ChatHistory {|ISO003:_history|} = new();
            }

            public sealed class ScopedService
            {
                private readonly TriageAgent _agent = new();
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddSingleton<AgentRegistry>();
                    services.AddSingleton<IChatStore>(sp => new ChatStore());
                    services.AddScoped<ScopedService>();
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_HostedServiceAndMiddlewareHoldingSessions_ReportsISO003()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class AppDb : Microsoft.EntityFrameworkCore.DbContext { }

            public sealed class Indexer : BackgroundService
            {
                private readonly AppDb {|ISO003:_db|};
                public Indexer(AppDb db) => _db = db;
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => _db.SaveChangesAsync(stoppingToken);
            }

            public sealed class TenantMiddleware
            {
                private readonly RequestDelegate _next;
                private readonly Microsoft.Agents.AI.AgentSession {|ISO003:_session|};
                public TenantMiddleware(RequestDelegate next, Microsoft.Agents.AI.AgentSession session) { _next = next; _session = session; }
                public Task InvokeAsync(HttpContext context) => _next(context);
            }
            """);
    }

    [Fact]
    public async Task Analyze_StatelessSingletonsAndFactories_NoDiagnostic()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class TriageAgent : IAgent { }
            public sealed class AppDb : Microsoft.EntityFrameworkCore.DbContext { }

            // A stateless "agent service" singleton: the name says agent, the type does not.
            public sealed class FooAgentService
            {
                private readonly IAgentFactory<TriageAgent> _factory;
                private readonly Microsoft.EntityFrameworkCore.IDbContextFactory<AppDb> _dbFactory;
                private readonly Microsoft.Agents.AI.AIAgent _shared;
                private readonly Microsoft.Extensions.AI.IChatClient _client;
                private readonly DbDataSource _dataSource;
                private readonly Func<TriageAgent> _create;
                private readonly IReadOnlyList<Microsoft.Extensions.AI.ChatMessage> _fewShot;
                public FooAgentService(IAgentFactory<TriageAgent> factory, Microsoft.EntityFrameworkCore.IDbContextFactory<AppDb> dbFactory, Microsoft.Agents.AI.AIAgent shared, Microsoft.Extensions.AI.IChatClient client, DbDataSource dataSource, Func<TriageAgent> create)
                {
                    _factory = factory; _dbFactory = dbFactory; _shared = shared; _client = client; _dataSource = dataSource; _create = create; _fewShot = Array.Empty<Microsoft.Extensions.AI.ChatMessage>();
                }
            }

            public sealed class CosmosDbContext<T> { }
            public sealed class CosmosStore { private readonly CosmosDbContext<int> _context = new(); }

            // An agent holding its own session is per-request itself.
            public sealed class ResearchAgent : IAgent { private readonly AppDb _db = new(); }

            public sealed class Worker : BackgroundService
            {
                private readonly IServiceScopeFactoryLike _scopes;
                public Worker(IServiceScopeFactoryLike scopes) => _scopes = scopes;
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
            }

            public interface IServiceScopeFactoryLike { }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddSingleton<FooAgentService>();
                    services.AddSingleton<CosmosStore>();
                    services.AddSingleton<ResearchAgent>();
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_SingletonTypesFromEditorConfig_ReportsISO003()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(
            Usings + """
            namespace MyApp.Infrastructure
            {
                public sealed class ConnectionCache { private readonly List<System.Data.IDbConnection> {|ISO003:_pool|} = new(); }
                public sealed class Other { private readonly List<System.Data.IDbConnection> _pool = new(); }
            }
            """,
            "isolation.singleton_types = MyApp.Infrastructure.*Cache");
    }

    [Fact]
    public async Task Analyze_ContextFromFactoryStoredBySingleton_ReportsISO003()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class AppDb : Microsoft.EntityFrameworkCore.DbContext { }

            // AddDbContextFactory misuse: the factory is right, keeping its context for the process is not.
            public sealed class ChatRepository
            {
                private readonly AppDb {|ISO003:_db|};
                private readonly Microsoft.EntityFrameworkCore.IDbContextFactory<AppDb> _factory;
                public ChatRepository(Microsoft.EntityFrameworkCore.IDbContextFactory<AppDb> factory) { _factory = factory; _db = factory.CreateDbContext(); }
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddSingleton<ChatRepository>();
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_NeighbouringConversationTypes_ReportsISO003()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class LegacyKernelChat : BackgroundService
            {
                private readonly Microsoft.SemanticKernel.AI.ChatCompletion.ChatHistory {|ISO003:_history|} = new();
                private readonly LLama.ChatSession {|ISO003:_session|} = new();
                private readonly LLama.LLamaContext {|ISO003:_context|} = new();
                private readonly List<OpenAI.Chat.ChatMessage> {|ISO003:_messages|} = new();
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
            }
            """);
    }

    [Fact]
    public async Task Analyze_OpenAiApiDotnetConversationTypes_ReportsISO003()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class ChatGptWorker : BackgroundService
            {
                private readonly OpenAI_API.OpenAIAPI _api = new("key");
                private OpenAI_API.Chat.Conversation {|ISO003:_conversation|};
                private readonly List<OpenAI_API.Chat.ChatMessage> {|ISO003:_messages|} = new();
                public ChatGptWorker() { _conversation = _api.Chat.CreateConversation(); }
                public void Ask(string text) => _conversation.AppendUserInput(text);
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
            }
            """);
    }

    [Fact]
    public async Task Analyze_OpenAiApiDotnetClientAndLookAlikeConversation_NoISO003()
    {
        // The client is shared by design; a type of the application that is only named Conversation is not the package's.
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            namespace MyApp.Chat
            {
                public sealed class Conversation { public string Title { get; set; } = ""; }
                public sealed class ChatMessage { }
            }

            public sealed class ChatGptWorker : BackgroundService
            {
                private readonly OpenAI_API.OpenAIAPI _api = new("key");
                private readonly MyApp.Chat.Conversation _settings = new();
                private readonly IReadOnlyList<OpenAI_API.Chat.ChatMessage> _template = new List<OpenAI_API.Chat.ChatMessage>();
                private readonly List<MyApp.Chat.ChatMessage> _samples = new();
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
            }
            """);
    }

    [Fact]
    public async Task Analyze_LLamaContextUsedOnlyToTokenize_NoISO003()
    {
        // One model vocabulary for everyone: tokenizing keeps nothing of a conversation in the context's KV cache.
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class TokenCounter : BackgroundService
            {
                private readonly LLama.LLamaContext _context;
                public TokenCounter() { _context = new LLama.LLamaContext(); }
                public int Count(string text) => _context.Tokenize(text).Length;
                public string Round(string text) => _context.DeTokenize(_context.Tokenize(text));
                public void Release() { _context?.Dispose(); }
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
            }
            """);
    }

    [Fact]
    public async Task Analyze_LLamaContextAlsoUsedForInferenceOrVisibleOutside_ReportsISO003()
    {
        // Look-alikes of the tokenizer-only case: the same context handed to an executor, read for anything else, or
        // reachable from outside the type (its uses there are not seen) holds a conversation.
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class ChatService : BackgroundService
            {
                private readonly LLama.LLamaContext {|ISO003:_context|} = new();
                public int Count(string text) => _context.Tokenize(text).Length;
                public object Chat() => new LLama.InteractiveExecutor(_context);
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
            }

            public sealed class SizeService : BackgroundService
            {
                private readonly LLama.LLamaContext {|ISO003:_context|} = new();
                public int Size() => _context.ContextSize;
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
            }

            public sealed class OpenService : BackgroundService
            {
                internal readonly LLama.LLamaContext {|ISO003:Context|} = new();
                public int Count(string text) => Context.Tokenize(text).Length;
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
            }
            """);
    }

    [Fact]
    public async Task Analyze_LLamaContextInConfiguredSingleton_TokenizerOnlySilentOtherwiseReported()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            namespace MyApp
            {
                public sealed class Tokens { private readonly LLama.LLamaContext _context = new(); public int Count(string t) => _context.Tokenize(t).Length; }
                public sealed class Chat { private readonly LLama.LLamaContext {|ISO003:_context|} = new(); public object Run() => new LLama.InteractiveExecutor(_context); }
            }
            """,
            "isolation.singleton_types = MyApp.*");
    }

    [Fact]
    public async Task Analyze_IntrinsicSingleton_ReportedBeforeCompilationEnd()
    {
        var source = Usings + """
            public sealed class AppDb : Microsoft.EntityFrameworkCore.DbContext { }
            public sealed class Indexer : BackgroundService
            {
                private readonly AppDb _db = new();
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
            }

            public sealed class Store { private readonly AppDb _db = new(); }

            public static class Startup
            {
                public static void Configure(IServiceCollection services) => services.AddSingleton<Store>();
            }
            """;

        var (live, all) = await LiveAnalysis.RunAsync(new SingletonHeldStateAnalyzer(), source);

        // The hosted service is singleton by itself: reported in the editor's per-document analysis. The registered
        // singleton needs the whole compilation: reported only at compilation end.
        Assert.Equal(["ISO003 Indexer"], live);
        Assert.Equal(["ISO003 Indexer", "ISO003 Store"], all);
    }
}
