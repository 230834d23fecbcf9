using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Classification;

/// <summary>
/// The types the rules match, resolved once per compilation by metadata name. A type absent from the compilation is
/// null, and every check against it is false: nothing is ever matched by simple name.
/// </summary>
internal sealed class KnownTypes
{
    private KnownTypes(Compilation compilation)
    {
        IAgent = Get(compilation, "Isolation.IAgent");
        RequestScopedAttribute = Get(compilation, "Isolation.RequestScopedAttribute");
        IAgentFactory = Get(compilation, "Isolation.IAgentFactory`1");
        IsolationScope = Get(compilation, "Isolation.IsolationScope");

        WellKnownSessions = GetAll(
            compilation,
            "System.Data.Common.DbConnection",
            "System.Data.IDbConnection",
            "System.Data.Common.DbTransaction",
            "System.Data.IDbTransaction",
            "Microsoft.EntityFrameworkCore.DbContext",
            "Microsoft.Agents.AI.AgentSession",
            "Microsoft.Agents.AI.AgentThread",
            "Microsoft.SemanticKernel.ChatCompletion.ChatHistory",
            "Microsoft.SemanticKernel.Agents.AgentThread",
            // Semantic Kernel before 1.0 kept the conversation in another namespace.
            "Microsoft.SemanticKernel.AI.ChatCompletion.ChatHistory",
            // LLamaSharp: a chat session, its history and a context (one KV cache, one conversation) are per-conversation.
            "LLama.ChatSession",
            "LLama.Common.ChatHistory",
            "LLama.LLamaContext",
            "LLama.StatefulExecutorBase",
            // The OpenAI-API-dotnet package (NuGet "OpenAI" 1.x, namespace OpenAI_API): one ongoing chat, its messages kept
            // inside and sent with every request.
            "OpenAI_API.Chat.Conversation");
        ChatMessages = GetAll(
            compilation,
            "Microsoft.Extensions.AI.ChatMessage",
            "Microsoft.SemanticKernel.ChatMessageContent",
            "OpenAI.Chat.ChatMessage",
            "Azure.AI.OpenAI.ChatRequestMessage",
            "Azure.AI.OpenAI.ChatMessage",
            "OpenAI_API.Chat.ChatMessage");
        AgentOutputs = GetAll(
            compilation,
            "Microsoft.Extensions.AI.ChatResponse",
            "Microsoft.Extensions.AI.ChatResponseUpdate",
            "Microsoft.Agents.AI.AgentRunResponse",
            "Microsoft.Agents.AI.AgentRunResponseUpdate",
            "Microsoft.Agents.AI.AgentResponse",
            "Microsoft.Agents.AI.AgentResponseUpdate",
            "Microsoft.SemanticKernel.StreamingChatMessageContent",
            "Microsoft.SemanticKernel.ChatMessageContent",
            "OpenAI.Chat.ChatCompletion",
            "OpenAI.Chat.StreamingChatCompletionUpdate",
            "Isolation.EventEnvelope");
        // The role of a message in a conversation with a model (user, assistant, system, tool).
        ChatRoles = GetAll(
            compilation,
            "Microsoft.Extensions.AI.ChatRole",
            "Microsoft.SemanticKernel.ChatCompletion.AuthorRole",
            "OpenAI.Chat.ChatMessageRole",
            "LLama.Common.AuthorRole",
            "OpenAI_API.Chat.ChatMessageRole");
        // Multicast streams: every subscriber (every linked target) receives every item pushed.
        ObservableSubject = Get(compilation, "System.Reactive.Subjects.ISubject`2");
        BroadcastBlock = Get(compilation, "System.Threading.Tasks.Dataflow.BroadcastBlock`1");
        SharedByDesign = GetAll(compilation, "Microsoft.Agents.AI.AIAgent", "Microsoft.Extensions.AI.IChatClient", "System.Net.Http.HttpClient", "System.Net.Http.HttpMessageInvoker");

        IServiceProvider = Get(compilation, "System.IServiceProvider");
        ServiceCollectionServiceExtensions = Get(compilation, "Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions");
        ServiceCollectionDescriptorExtensions = Get(compilation, "Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions");
        ServiceCollectionHostedServiceExtensions = Get(compilation, "Microsoft.Extensions.DependencyInjection.ServiceCollectionHostedServiceExtensions");
        ServiceDescriptor = Get(compilation, "Microsoft.Extensions.DependencyInjection.ServiceDescriptor");
        IHostedService = Get(compilation, "Microsoft.Extensions.Hosting.IHostedService");
        RequestDelegate = Get(compilation, "Microsoft.AspNetCore.Http.RequestDelegate");
        HttpContext = Get(compilation, "Microsoft.AspNetCore.Http.HttpContext");

        Hub = Get(compilation, "Microsoft.AspNetCore.SignalR.Hub");
        HubOfT = Get(compilation, "Microsoft.AspNetCore.SignalR.Hub`1");
        IHubClientsOfT = Get(compilation, "Microsoft.AspNetCore.SignalR.IHubClients`1");
        ControllerBase = Get(compilation, "Microsoft.AspNetCore.Mvc.ControllerBase");
        PageModel = Get(compilation, "Microsoft.AspNetCore.Mvc.RazorPages.PageModel");
        WebSocket = Get(compilation, "System.Net.WebSockets.WebSocket");

        Task = Get(compilation, "System.Threading.Tasks.Task");
        TaskOfT = Get(compilation, "System.Threading.Tasks.Task`1");
        ValueTaskOfT = Get(compilation, "System.Threading.Tasks.ValueTask`1");
        ValueTask = Get(compilation, "System.Threading.Tasks.ValueTask");
        TaskFactory = Get(compilation, "System.Threading.Tasks.TaskFactory");
        ThreadPool = Get(compilation, "System.Threading.ThreadPool");
        LazyOfT = Get(compilation, "System.Lazy`1");
        IEnumerableOfT = compilation.GetSpecialType(SpecialType.System_Collections_Generic_IEnumerable_T);
        ICollectionOfT = compilation.GetSpecialType(SpecialType.System_Collections_Generic_ICollection_T);
        KeyValuePair = Get(compilation, "System.Collections.Generic.KeyValuePair`2");
        ReadOnlyCollection = Get(compilation, "System.Collections.ObjectModel.ReadOnlyCollection`1");
        ReadOnlyDictionary = Get(compilation, "System.Collections.ObjectModel.ReadOnlyDictionary`2");
        IDisposable = compilation.GetSpecialType(SpecialType.System_IDisposable);
        IAsyncDisposable = Get(compilation, "System.IAsyncDisposable");
        DbCommand = Get(compilation, "System.Data.Common.DbCommand");
        SessionCreators = GetAll(
            compilation,
            "System.Data.Common.DbProviderFactory",
            "System.Data.Common.DbDataSource",
            "Microsoft.EntityFrameworkCore.IDbContextFactory`1");
        SessionCreatorMethods = GetMethods(SessionCreators, "CreateConnection", "OpenConnection", "OpenConnectionAsync", "CreateDbContext", "CreateDbContextAsync");
        DbConnection = Get(compilation, "System.Data.Common.DbConnection");
        LLamaContext = Get(compilation, "LLama.LLamaContext");
        IDbConnection = Get(compilation, "System.Data.IDbConnection");

        EntityFrameworkServiceCollectionExtensions = Get(compilation, "Microsoft.Extensions.DependencyInjection.EntityFrameworkServiceCollectionExtensions");
        ServiceLifetime = Get(compilation, "Microsoft.Extensions.DependencyInjection.ServiceLifetime");
        Enumerable = Get(compilation, "System.Linq.Enumerable");
        IDictionaryOfT = Get(compilation, "System.Collections.Generic.IDictionary`2");
        IReadOnlyDictionaryOfT = Get(compilation, "System.Collections.Generic.IReadOnlyDictionary`2");
        ConcurrentDictionary = Get(compilation, "System.Collections.Concurrent.ConcurrentDictionary`2");
        MemoryCacheExtensions = Get(compilation, "Microsoft.Extensions.Caching.Memory.CacheExtensions");
        IMemoryCache = Get(compilation, "Microsoft.Extensions.Caching.Memory.IMemoryCache");
        LazyInitializer = Get(compilation, "System.Threading.LazyInitializer");

        // Mutable collections that do not implement ICollection<T>.
        OtherMutableCollections = GetAll(
            compilation,
            "System.Collections.Generic.Queue`1",
            "System.Collections.Generic.Stack`1",
            "System.Collections.Generic.PriorityQueue`2");
        Monitor = Get(compilation, "System.Threading.Monitor");
        Interlocked = Get(compilation, "System.Threading.Interlocked");
        Volatile = Get(compilation, "System.Threading.Volatile");
        SynchronizationTypes = GetAll(
            compilation,
            "System.Threading.SemaphoreSlim",
            "System.Threading.ReaderWriterLockSlim",
            "System.Threading.ReaderWriterLock",
            "System.Threading.WaitHandle",
            "System.Threading.Lock",
            "System.Threading.SpinLock");
        OptionsTypes = GetAll(
            compilation,
            "Microsoft.Extensions.Options.IOptions`1",
            "Microsoft.Extensions.Options.IOptionsMonitor`1",
            "Microsoft.Extensions.Options.IOptionsSnapshot`1");
        OptionsMonitorExtensions = Get(compilation, "Microsoft.Extensions.Options.OptionsMonitorExtensions");
        BackgroundService = Get(compilation, "Microsoft.Extensions.Hosting.BackgroundService");

        HasRequestScopedMarkers = IAgent is not null || RequestScopedAttribute is not null || !WellKnownSessions.IsEmpty || !ChatMessages.IsEmpty;
        HasHandlerTypes = Hub is not null || HubOfT is not null || ControllerBase is not null || PageModel is not null;
    }

    public INamedTypeSymbol? IAgent { get; }

    public INamedTypeSymbol? RequestScopedAttribute { get; }

    public INamedTypeSymbol? IAgentFactory { get; }

    public INamedTypeSymbol? IsolationScope { get; }

    /// <summary>Per-request session types: a type deriving from or implementing one of them is a session.</summary>
    public ImmutableArray<INamedTypeSymbol> WellKnownSessions { get; }

    /// <summary>Chat message types: a mutable collection of them is one conversation.</summary>
    public ImmutableArray<INamedTypeSymbol> ChatMessages { get; }

    /// <summary>Types designed to be shared between requests; never request-scoped, whatever the configuration says.</summary>
    public ImmutableArray<INamedTypeSymbol> SharedByDesign { get; }

    public INamedTypeSymbol? IServiceProvider { get; }

    public INamedTypeSymbol? ServiceCollectionServiceExtensions { get; }

    public INamedTypeSymbol? ServiceCollectionDescriptorExtensions { get; }

    public INamedTypeSymbol? ServiceCollectionHostedServiceExtensions { get; }

    public INamedTypeSymbol? ServiceDescriptor { get; }

    public INamedTypeSymbol? IHostedService { get; }

    public INamedTypeSymbol? RequestDelegate { get; }

    public INamedTypeSymbol? HttpContext { get; }

    public INamedTypeSymbol? Hub { get; }

    public INamedTypeSymbol? HubOfT { get; }

    public INamedTypeSymbol? IHubClientsOfT { get; }

    public INamedTypeSymbol? ControllerBase { get; }

    public INamedTypeSymbol? PageModel { get; }

    public INamedTypeSymbol? WebSocket { get; }

    public INamedTypeSymbol? Task { get; }

    public INamedTypeSymbol? TaskOfT { get; }

    public INamedTypeSymbol? ValueTaskOfT { get; }

    public INamedTypeSymbol? ValueTask { get; }

    public INamedTypeSymbol? TaskFactory { get; }

    public INamedTypeSymbol? ThreadPool { get; }

    public INamedTypeSymbol? LazyOfT { get; }

    public INamedTypeSymbol IEnumerableOfT { get; }

    public INamedTypeSymbol ICollectionOfT { get; }

    public INamedTypeSymbol? KeyValuePair { get; }

    public INamedTypeSymbol? ReadOnlyCollection { get; }

    public INamedTypeSymbol? ReadOnlyDictionary { get; }

    public INamedTypeSymbol IDisposable { get; }

    public INamedTypeSymbol? IAsyncDisposable { get; }

    public INamedTypeSymbol? DbCommand { get; }

    /// <summary>The methods of <see cref="SessionCreators"/> that hand a new session to the caller.</summary>
    public ImmutableArray<IMethodSymbol> SessionCreatorMethods { get; }

    /// <summary>Agent results and streaming updates: a value of one of them is an agent event.</summary>
    public ImmutableArray<INamedTypeSymbol> AgentOutputs { get; }

    public INamedTypeSymbol? DbConnection { get; }

    /// <summary>The role types of conversation messages: a type with a member of one of them is a conversation message.</summary>
    public ImmutableArray<INamedTypeSymbol> ChatRoles { get; }

    /// <summary>Rx's <c>ISubject&lt;TSource, TResult&gt;</c>: <c>Subject</c>, <c>ReplaySubject</c>, <c>BehaviorSubject</c>, ...</summary>
    public INamedTypeSymbol? ObservableSubject { get; }

    /// <summary>TPL Dataflow's <c>BroadcastBlock&lt;T&gt;</c>: every linked target receives every message.</summary>
    public INamedTypeSymbol? BroadcastBlock { get; }

    /// <summary>LLamaSharp's context: one KV cache (a conversation), but its tokenizer methods use only the model's vocabulary.</summary>
    public INamedTypeSymbol? LLamaContext { get; }

    public INamedTypeSymbol? IDbConnection { get; }

    public INamedTypeSymbol? EntityFrameworkServiceCollectionExtensions { get; }

    public INamedTypeSymbol? ServiceLifetime { get; }

    public INamedTypeSymbol? Enumerable { get; }

    public INamedTypeSymbol? IDictionaryOfT { get; }

    public INamedTypeSymbol? IReadOnlyDictionaryOfT { get; }

    public INamedTypeSymbol? ConcurrentDictionary { get; }

    public INamedTypeSymbol? MemoryCacheExtensions { get; }

    public INamedTypeSymbol? IMemoryCache { get; }

    public INamedTypeSymbol? LazyInitializer { get; }

    /// <summary><c>Queue&lt;T&gt;</c>, <c>Stack&lt;T&gt;</c>, <c>PriorityQueue&lt;TElement, TPriority&gt;</c>: mutable, but not <c>ICollection&lt;T&gt;</c>.</summary>
    public ImmutableArray<INamedTypeSymbol> OtherMutableCollections { get; }

    public INamedTypeSymbol? Monitor { get; }

    public INamedTypeSymbol? Interlocked { get; }

    public INamedTypeSymbol? Volatile { get; }

    /// <summary>Locks and semaphores whose wait-and-release brackets a critical section.</summary>
    public ImmutableArray<INamedTypeSymbol> SynchronizationTypes { get; }

    /// <summary><c>IOptions&lt;T&gt;</c>, <c>IOptionsMonitor&lt;T&gt;</c>, <c>IOptionsSnapshot&lt;T&gt;</c>.</summary>
    public ImmutableArray<INamedTypeSymbol> OptionsTypes { get; }

    public INamedTypeSymbol? OptionsMonitorExtensions { get; }

    public INamedTypeSymbol? BackgroundService { get; }

    /// <summary>Types whose methods hand out a new session the caller owns (DbProviderFactory, DbDataSource, IDbContextFactory).</summary>
    public ImmutableArray<INamedTypeSymbol> SessionCreators { get; }

    /// <summary>False when the compilation contains none of the request-scoped marker types: most rules have nothing to find.</summary>
    public bool HasRequestScopedMarkers { get; }

    /// <summary>True when SignalR, MVC or Razor Pages is referenced: ISO005 has handler types to check.</summary>
    public bool HasHandlerTypes { get; }

    public static KnownTypes Create(Compilation compilation) => new(compilation);

    private static INamedTypeSymbol? Get(Compilation compilation, string metadataName)
    {
        var type = compilation.GetTypeByMetadataName(metadataName);
        return type is null || type.TypeKind == TypeKind.Error ? null : type;
    }

    private static ImmutableArray<IMethodSymbol> GetMethods(ImmutableArray<INamedTypeSymbol> types, params string[] names)
    {
        var builder = ImmutableArray.CreateBuilder<IMethodSymbol>();
        foreach (var type in types)
        {
            foreach (var name in names)
            {
                foreach (var member in type.GetMembers(name))
                {
                    if (member is IMethodSymbol method)
                    {
                        builder.Add(method);
                    }
                }
            }
        }

        return builder.ToImmutable();
    }

    private static ImmutableArray<INamedTypeSymbol> GetAll(Compilation compilation, params string[] metadataNames)
    {
        var builder = ImmutableArray.CreateBuilder<INamedTypeSymbol>(metadataNames.Length);
        foreach (var name in metadataNames)
        {
            if (Get(compilation, name) is { } type)
            {
                builder.Add(type);
            }
        }

        return builder.ToImmutable();
    }
}
