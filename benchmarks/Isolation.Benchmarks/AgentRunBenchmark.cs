using BenchmarkDotNet.Attributes;
using Isolation.AgentFramework;
using Microsoft.Agents.AI;
using Microsoft.Extensions.DependencyInjection;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Isolation.Benchmarks;

/// <summary>
/// One Agent Framework run (a real <see cref="ChatClientAgent"/> over a scripted model) bare, and through
/// <see cref="IsolatedAIAgent"/>: the session check, the conversation turn and the span check. Both run inside the same
/// ambient scope, with the history reset before each run so every run sees one message. Goal: at most 2 us and 1 KB added.
/// </summary>
public class AgentRunBenchmark
{
    private ServiceProvider _services = null!;
    private IsolationScope _scope = null!;
    private ChatClientAgent _bare = null!;
    private IsolatedAIAgent _isolated = null!;
    private InMemoryChatHistoryProvider _history = null!;
    private AgentSession _bareSession = null!;
    private AgentSession _isolatedSession = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddIsolation(o => o.Mode = IsolationMode.Enforce);
        _services = services.BuildServiceProvider();
        _scope = _services.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));
        _bare = new ChatClientAgent(new BenchmarkChatClient(), new ChatClientAgentOptions { Name = "bench" });
        _isolated = new IsolatedAIAgent(_bare);
        _history = (InMemoryChatHistoryProvider)_bare.ChatHistoryProvider!;
        _bareSession = _bare.CreateSessionAsync().AsTask().GetAwaiter().GetResult();
        _isolatedSession = _isolated.CreateSessionAsync().AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scope.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task<AgentResponse> BareAgent()
    {
        _history.SetMessages(_bareSession, new List<AIChatMessage>());
        return _bare.RunAsync("hello", _bareSession);
    }

    [Benchmark]
    public Task<AgentResponse> IsolatedAgent()
    {
        _history.SetMessages(_isolatedSession, new List<AIChatMessage>());
        return _isolated.RunAsync("hello", _isolatedSession);
    }
}
