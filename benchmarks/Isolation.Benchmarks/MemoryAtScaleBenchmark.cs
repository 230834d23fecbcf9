using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// Memory at scale, per connection and per run (read the Allocated column; <c>OperationsPerInvoke</c> makes it per item).
/// <c>IdleConnections</c> registers 10,000 <see cref="WebSocketEventSink"/>s on open, idle sockets (made once, outside
/// the measurement: the socket belongs to the server) and removes them: the bytes a connection costs — its sink, queue,
/// registry entry, send-timeout source and waiting writer loop — an upper bound on what an idle one holds. The baseline
/// is what a backend without isolation keeps per connection: a bounded channel in a per-user dictionary.
/// <c>InFlightRuns</c> starts 1,000 runs whose work waits, then lets them finish: the bytes of one run through
/// <see cref="IIsolatedRunner"/>, all of which it holds while in flight. Goal: at most 2 KB per idle connection.
/// </summary>
public class MemoryAtScaleBenchmark
{
    public const int Connections = 10_000;
    public const int Runs = 1_000;

    private readonly ConcurrentDictionary<string, Channel<ChatMessage>> _plain = new(StringComparer.Ordinal);
    private readonly WebSocketEventSink[] _sinks = new WebSocketEventSink[Connections];
    private readonly Task<RunResult>[] _runs = new Task<RunResult>[Runs];
    private WebSocket[] _sockets = [];
    private string[] _users = [];
    private ServiceProvider _provider = null!;
    private IConnectionRegistry _registry = null!;
    private IIsolatedRunner _runner = null!;

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddIsolation()
            .AddIsolatedAgent<FreshAgent>()
            .BuildServiceProvider();
        _registry = _provider.GetRequiredService<IConnectionRegistry>();
        _runner = _provider.GetRequiredService<IIsolatedRunner>();
        _users = Enumerable.Range(0, Connections).Select(i => "user-" + i).ToArray();
        _sockets = Enumerable.Range(0, Connections).Select(_ => InMemorySocketStream.Create(stalled: false).Socket).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, OperationsPerInvoke = Connections)]
    public int PlainChannels()
    {
        for (var i = 0; i < Connections; i++)
        {
            _plain[_users[i]] = BenchmarkChannels.Create<ChatMessage>();
        }

        var count = _plain.Count;
        _plain.Clear();
        return count;
    }

    [Benchmark(OperationsPerInvoke = Connections)]
    public async Task<int> IdleConnections()
    {
        for (var i = 0; i < Connections; i++)
        {
            _sinks[i] = _registry.RegisterWebSocket(_sockets[i], _users[i], "c-1");
        }

        var count = _registry.GetConnectionCount(_users[^1]);
        for (var i = 0; i < Connections; i++)
        {
            await _sinks[i].DisposeAsync();
        }

        return count;
    }

    [Benchmark(OperationsPerInvoke = Runs)]
    public async Task<int> InFlightRuns()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<IsolationScope, CancellationToken, Task> work = async (scope, _) =>
        {
            scope.GetAgent<FreshAgent>().Add("step");
            await release.Task;
        };
        for (var i = 0; i < Runs; i++)
        {
            _runs[i] = _runner.RunAsync(new UserExecutionContext(_users[i]), work);
        }

        release.SetResult();
        var completed = 0;
        foreach (var run in _runs)
        {
            completed += (await run).Status == RunStatus.Completed ? 1 : 0;
        }

        return completed;
    }
}
