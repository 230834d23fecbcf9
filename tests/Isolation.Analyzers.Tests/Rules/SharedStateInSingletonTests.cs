using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Tests.Rules;

/// <summary>ISO006 (collections written on request paths) and ISO007 (fields assigned on request paths) of <see cref="SingletonHeldStateAnalyzer"/>.</summary>
public sealed class SharedStateInSingletonTests
{
    private const string Usings = """
        using System;
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Collections.Immutable;
        using System.Threading;
        using System.Threading.Tasks;
        using Microsoft.AspNetCore.Http;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;
        using Microsoft.Extensions.Options;

        """;

    [Fact]
    public async Task Analyze_RegisteredSingletonWritingPlainCollectionsAndFields_ReportsISO006AndISO007()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed record Line(string User, string Text);
            public interface IChatService { IReadOnlyList<Line> Post(string user, string text); }

            public sealed class ChatService : IChatService
            {
                private readonly List<Line> {|ISO006:_history|} = new();
                private readonly Dictionary<string, string> {|ISO006:_byConversation|} = new();
                private readonly HashSet<string> {|ISO006:_seen|} = new();
                private readonly Queue<string> {|ISO006:_pending|} = new();
                private readonly Dictionary<string, List<Line>> {|ISO006:_perUser|} = new();
                private string? {|ISO007:_lastUser|};
                private bool {|ISO007:_busy|};
                public string? {|ISO007:Topic|} { get; set; }

                public IReadOnlyList<Line> Post(string user, string text)
                {
                    _busy = true;
                    _history.Add(new Line(user, text));
                    _byConversation[user] = text;
                    _seen.Add(user);
                    _pending.Enqueue(text);
                    _perUser[user].Add(new Line(user, text));
                    _lastUser = user;
                    Topic = text;
                    return _history;
                }
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services) => services.AddSingleton<IChatService, ChatService>();
            }
            """);
    }

    [Fact]
    public async Task Analyze_RegisteredSingleton_MessageNamesTheRegistrationAndTheWriter()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(
            Usings + """
            public sealed class History
            {
                private readonly List<string> {|#0:_lines|} = new();
                private int {|#1:_count|};
                public void Add(string line) { _lines.Add(line); _count = _count + 1; }
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddSingleton<History>();
                }
            }
            """,
            [
                Verifier<SingletonHeldStateAnalyzer>.Diagnostic(Descriptors.ISO006SharedCollectionInRegisteredSingleton, 0)
                    .WithArguments("History", "registered as a singleton by AddSingleton at Test0.cs:22", "field", "_lines", "Add"),
                Verifier<SingletonHeldStateAnalyzer>.Diagnostic(Descriptors.ISO007MutableFieldInRegisteredSingleton, 1)
                    .WithArguments("History", "registered as a singleton by AddSingleton at Test0.cs:22", "_count", "Add"),
            ]);
    }

    [Fact]
    public async Task Analyze_MiddlewareAndHostedServiceWritingFromRequestPaths_ReportsISO006AndISO007()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class AuditMiddleware
            {
                private readonly RequestDelegate _next;
                private readonly List<string> {|ISO006:_paths|} = new();
                private int {|ISO007:_requests|};
                public AuditMiddleware(RequestDelegate next) => _next = next;
                public Task InvokeAsync(HttpContext context) { _requests++; _paths.Add("x"); return _next(context); }
            }

            // A hosted service that requests also call (injected as itself): its public method is a request path.
            public sealed class Notifier : BackgroundService
            {
                private readonly List<string> {|ISO006:_queued|} = new();
                public void Queue(string message) => _queued.Add(message);
                protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
            }
            """);
    }

    [Fact]
    public async Task Analyze_ProtectedOrSharedByDesignState_NoDiagnostic()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class ChatOptions { public int MaxTurns { get; set; } }

            public sealed class SafeService
            {
                private readonly object _gate = new();
                private readonly SemaphoreSlim _semaphore = new(1, 1);
                private readonly List<string> _locked = new();
                private readonly List<string> _monitored = new();
                private readonly Dictionary<string, int> _semaphored = new();
                private readonly ConcurrentDictionary<string, string> _byConnection = new();
                private readonly Lazy<List<string>> _lazy = new(() => new List<string>());
                private readonly List<string> _initialised = new();
                private readonly List<string> _readOnly = new() { "help" };
                private ImmutableList<string> _snapshot = ImmutableList<string>.Empty;
                private readonly IOptionsMonitor<ChatOptions> _monitor;
                private ChatOptions _options;
                private ChatOptions _changed;
                private int _count;
                private bool _flag;
                private volatile bool _stopping;
                private string _mode;

                public SafeService(IOptionsMonitor<ChatOptions> monitor)
                {
                    _monitor = monitor;
                    _options = monitor.CurrentValue;
                    _changed = monitor.CurrentValue;
                    _mode = "chat";
                    monitor.OnChange(o => _changed = o);
                    Initialise();
                }

                private void Initialise() { _initialised.Add("ready"); _mode = "ready"; }

                public void Connect(string connectionId, string user) => _byConnection[connectionId] = user;
                public void Disconnect(string connectionId) => _byConnection.TryRemove(connectionId, out _);

                public async Task WriteAsync(string text)
                {
                    lock (_gate) { _locked.Add(text); }
                    Monitor.Enter(_gate);
                    try { _monitored.Add(text); } finally { Monitor.Exit(_gate); }
                    await _semaphore.WaitAsync();
                    try { _semaphored[text] = 1; } finally { _semaphore.Release(); }
                    Interlocked.Increment(ref _count);
                    Volatile.Write(ref _flag, true);
                    _stopping = true;
                    _snapshot = ImmutableList.Create(text);
                    _options = _monitor.CurrentValue;
                    _ = _lazy.Value.Count + _readOnly.Count + _snapshot.Count + _changed.MaxTurns + _mode.Length + _options.MaxTurns + _initialised.Count;
                }
            }

            public sealed class Indexer : BackgroundService
            {
                private readonly List<string> _batch = new();
                private DateTime _startedAt;
                public override Task StartAsync(CancellationToken cancellationToken) { _startedAt = DateTime.UtcNow; return base.StartAsync(cancellationToken); }
                protected override Task ExecuteAsync(CancellationToken stoppingToken) { _batch.Add(_startedAt.ToString()); return Task.CompletedTask; }
            }

            // Scoped: one instance per request, its state is the request's own.
            public sealed class Conversation
            {
                private readonly List<string> _lines = new();
                private string? _last;
                public void Add(string line) { _lines.Add(line); _last = line; }
            }

            // A type that is no framework collection, whatever its method names say.
            public sealed class Ledger { public void Add(string line) { } public void Clear() { } }
            public sealed class LedgerService
            {
                private readonly Ledger _ledger = new();
                public void Post(string line) { _ledger.Add(line); _ledger.Clear(); }
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddSingleton<SafeService>();
                    services.AddHostedService<Indexer>();
                    services.AddScoped<Conversation>();
                    services.AddSingleton<LedgerService>();
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_SingletonTypesFromEditorConfig_ReportsAndSeverityIsConfigurable()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(
            Usings + """
            namespace MyApp.Stores
            {
                public sealed class MessageStore { private readonly List<string> {|#0:_lines|} = new(); public void Add(string line) => _lines.Add(line); }
                public sealed class Other { private readonly List<string> _lines = new(); public void Add(string line) => _lines.Add(line); }
            }
            """,
            [
                Verifier<SingletonHeldStateAnalyzer>.Diagnostic(Descriptors.ISO006SharedCollectionInSingleton, 0)
                    .WithSeverity(DiagnosticSeverity.Warning)
                    .WithArguments("MessageStore", "isolation.singleton_types", "field", "_lines", "Add"),
            ],
            "isolation.singleton_types = MyApp.Stores.*Store\ndotnet_diagnostic.ISO006.severity = warning");
    }

    [Fact]
    public async Task Analyze_ObjectCreatedOnceInTopLevelStatements_IsSingleton()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyExecutableAsync("""
            using System.Collections.Generic;

            var bot = new Bot();
            for (var i = 0; i < 3; i++)
            {
                var perTurn = new Turn();
                perTurn.Add("x");
                bot.Handle("user", "hello");
            }

            public sealed class Bot
            {
                private readonly Dictionary<string, List<string>> {|ISO006:_conversations|} = new();
                public void Handle(string user, string text) => _conversations[user] = new List<string> { text };
            }

            public sealed class Turn
            {
                private readonly List<string> _lines = new();
                public void Add(string line) => _lines.Add(line);
            }
            """);
    }

    [Fact]
    public async Task Analyze_EntryPointObjectWrittenByItsStartupCallAndACallback_ReportsOnlyTheCallbackWrites()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyExecutableAsync("""
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;

            var bot = new Bot();
            await bot.StartAsync("token");
            await Task.Delay(-1);

            public sealed class Bot
            {
                private string? _token;
                private Timer? _timer;
                private readonly List<string> {|ISO006:_log|} = new();
                private int {|ISO007:_count|};

                // Called once by the entry point before anything else runs: start-up, like a constructor.
                public Task StartAsync(string token)
                {
                    _token = token;
                    _timer = new Timer(OnTick, null, 0, 1000);
                    return Task.CompletedTask;
                }

                // A callback: runs whenever the timer fires.
                private void OnTick(object? state)
                {
                    _log.Add(_token!);
                    _count++;
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_EntryPointObjectSetUpByAChainedCallOrCalledInALoop_ReportsOnlyTheRepeatedCalls()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyExecutableAsync("""
            using System.Collections.Generic;
            using System.Threading.Tasks;

            await new Listener().StartListeningAsync("token");

            var repl = new Repl();
            repl.Configure("prompt> ");
            while (true)
            {
                repl.Handle("user", "hello");
            }

            public sealed class Listener
            {
                public string? Token { get; private set; }
                public Task StartListeningAsync(string token) { Token = token; return Task.CompletedTask; }
            }

            public sealed class Repl
            {
                private string _prompt = "";
                private readonly Dictionary<string, string> {|ISO006:_lastByUser|} = new();
                public void Configure(string prompt) => _prompt = prompt;
                public void Handle(string user, string text) => _lastByUser[user] = _prompt + text;
            }
            """);
    }

    [Fact]
    public async Task Analyze_OneShotConsoleProgram_ObjectsItCreatesAreNotSharedBetweenRequests()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyExecutableAsync("""
            using System;
            using System.Collections.Generic;

            var memory = new MemoryStore();
            var agent = new Agent(memory);
            Console.WriteLine(agent.Run(Console.ReadLine() ?? ""));

            public sealed class MemoryStore
            {
                private readonly Dictionary<string, string> _memory = new();
                public void Store(string key, string value) => _memory[key] = value;
            }

            public sealed class Agent
            {
                private readonly MemoryStore _memory;
                public Agent(MemoryStore memory) => _memory = memory;
                public string Run(string input) { _memory.Store("last", input); return input; }
            }
            """);
    }

    [Fact]
    public async Task Analyze_ConfiguredSingletonTypeCreatedInTheEntryPoint_StartupCallIsNotExempt()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyExecutableAsync("""
            using System.Threading.Tasks;

            await new MyApp.Bots.ChatBot().StartAsync("token");

            namespace MyApp.Bots
            {
                public sealed class ChatBot
                {
                    private string? {|ISO007:_token|};
                    public Task StartAsync(string token) { _token = token; return Task.CompletedTask; }
                }
            }
            """,
            "isolation.singleton_types = MyApp.Bots.*Bot");
    }

    [Fact]
    public async Task Analyze_PrivateMethodPassedAsCallback_IsARequestPath()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class Poller : IDisposable
            {
                private readonly Timer _timer;
                private int {|ISO007:_ticks|};
                private string _name;
                public Poller() { _timer = new Timer(OnTick, null, 0, 1000); Rename("poller"); }
                // Called from the constructor only: initialisation, not a request path.
                private void Rename(string name) => _name = name;
                // Passed as a callback: runs on a timer thread whenever it fires.
                private void OnTick(object? state) => _ticks = _ticks + _name.Length;
                private bool _disposed;
                public void Dispose() => Dispose(true);
                // The dispose pattern's Dispose(bool) is disposal, not a request path.
                private void Dispose(bool disposing) { _disposed = true; _timer.Dispose(); }
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services) => services.AddSingleton<Poller>();
            }
            """);
    }

    [Fact]
    public async Task Analyze_MethodsThatOnlySwitchTheObjectsOwnStateToAConstant_NoDiagnostic()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public enum Mode { Normal, Maintenance }

            // One shared device: its state is everyone's by design, and each command sets it to a fixed value.
            public sealed class OfficeLight
            {
                private bool _on;
                private Mode _mode;
                private string? _label = "desk";
                public bool IsOn() => _on;
                public void TurnOn() => _on = true;
                public void TurnOff() { _on = false; }
                public void EnterMaintenance() => _mode = Mode.Maintenance;
                public void ClearLabel() => _label = null;
                public string Describe() => _label + " " + _mode;
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services) => services.AddKeyedSingleton<OfficeLight>("office");
            }
            """);
    }

    [Fact]
    public async Task Analyze_ConstantWritesThatAreNotAWholeCommand_ReportsISO007()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            public sealed class ChatService
            {
                private bool {|ISO007:_promptLogged|};
                private bool {|ISO007:_busy|};
                private string? {|ISO007:_lastUser|};
                private bool {|ISO007:_flag|};
                private int {|ISO007:_level|};

                // Check-then-act: read, then set, in one request.
                public string Send(string text)
                {
                    if (!_promptLogged)
                    {
                        _promptLogged = true;
                    }

                    return text;
                }

                // A constant set by a method that also does the request's work.
                public string Handle(string text) { _busy = true; return text.Trim(); }

                // A switch of the field does not exempt the request data written elsewhere.
                public void Forget() => _lastUser = null;
                public void Remember(string user) => _lastUser = user;

                // A constant set in a lambda, or not a constant, or not a plain assignment.
                public Action Later() => () => _flag = true;
                public void Raise() => _level += 1;
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services) => services.AddSingleton<ChatService>();
            }
            """);
    }

    [Fact]
    public async Task Analyze_ObjectKeptByAnEntryPointObjectsStartupCode_IsSingletonWithItsOwnStartup()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyExecutableAsync("""
            using System.Threading;
            using System.Threading.Tasks;

            await new BotApp().StartListeningAsync("token");
            await Task.Delay(-1);

            public sealed class BotApp
            {
                private Timer? _timer;
                public ChatGpt? Ai { get; private set; }
                public Settings Settings { get; } = new();

                // Called once by the entry point: the objects it creates and keeps live as long as the bot.
                public async Task StartListeningAsync(string token)
                {
                    Ai = new ChatGpt();
                    await Ai.InitAsync("You are a bot.");
                    _timer = new Timer(OnUpdate, null, 0, 1000);
                }

                // A callback: every chat's update arrives here.
                private void OnUpdate(object? state)
                {
                    Ai!.Ask("hello");
                    Settings.Rename("x");
                }
            }

            public sealed class ChatGpt
            {
                private OpenAI_API.OpenAIAPI? _api;
                private string _system = "";
                private OpenAI_API.Chat.Conversation? {|ISO003:_conversation|};
                private int {|ISO007:_asked|};

                // Called once by the bot's start-up method: start-up code of this object too.
                public Task InitAsync(string system)
                {
                    _api = new OpenAI_API.OpenAIAPI("key");
                    _system = system;
                    _conversation = _api.Chat.CreateConversation();
                    return Task.CompletedTask;
                }

                public void Ask(string text)
                {
                    _asked = _asked + 1;
                    _conversation!.AppendUserInput(_system + text);
                }
            }

            // Kept by a property initializer of the bot: as long-lived.
            public sealed class Settings
            {
                private string {|ISO007:_name|} = "";
                public void Rename(string name) => _name = name;
            }
            """);
    }

    [Fact]
    public async Task Analyze_ObjectsNotProvenToLiveAsLongAsTheEntryPointObject_NotInferred()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyExecutableAsync("""
            using System.Threading;
            using System.Threading.Tasks;

            await new BotApp().StartListeningAsync("token");
            await Task.Delay(-1);

            public sealed class BotApp
            {
                private Timer? _timer;
                // The bot's own fields assigned by its request paths are ISO007; the objects in them are not singletons.
                private ChatGpt? {|ISO007:_replaced|};
                private ChatGpt? {|ISO007:_perUpdate|};
                private ChatGpt? {|ISO007:_created|};
                private ChatGpt? _inLoop;

                public Task StartListeningAsync(string token)
                {
                    _replaced = new ChatGpt();
                    _timer = new Timer(OnUpdate, null, 0, 1000);
                    for (var i = 0; i < 2; i++)
                    {
                        _inLoop = new ChatGpt();
                    }

                    return Task.CompletedTask;
                }

                // Replaced by a request path: not kept for the bot's life. Created by a request path: per update.
                private void OnUpdate(object? state)
                {
                    _replaced = new ChatGpt();
                    _perUpdate = new ChatGpt();
                    _perUpdate.Ask("hello");
                    Create();
                }

                // Created by a method the entry point does not call: a request path.
                public void Create() => _created = new ChatGpt();
            }

            public sealed class ChatGpt
            {
                private OpenAI_API.Chat.Conversation _conversation = new();
                public void Ask(string text) => _conversation.AppendUserInput(text);
            }
            """);
    }
}
