using BenchmarkDotNet.Attributes;
using Isolation.AgentFramework;
using Microsoft.Agents.AI;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// Loading and saving one stored conversation through <see cref="OwnerCheckedAgentSessionStore"/> versus the inner store
/// alone, in memory and on SQLite (a file, through the scope's session guard). Goal: the owner check adds at most 2 us per
/// load + save.
/// </summary>
public class OwnerCheckBenchmark
{
    private ServiceProvider _services = null!;
    private IsolationScope _scope = null!;
    private ChatClientAgent _agent = null!;
    private AgentSessionStore _inner = null!;
    private OwnerCheckedAgentSessionStore _checked = null!;
    private string _file = null!;
    private readonly AgentSessionStoreKey _innerKey = new("bench-inner");
    private readonly AgentSessionStoreKey _checkedKey = new("bench-checked");

    public enum StoreKind
    {
        Memory,
        Sqlite,
    }

    [Params(StoreKind.Memory, StoreKind.Sqlite)]
    public StoreKind Store { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddIsolation(o => o.Mode = IsolationMode.Enforce);
        _file = Path.Combine(Path.GetTempPath(), "iso_af_bench_" + Guid.NewGuid().ToString("N") + ".db");
        var connectionString = new SqliteConnectionStringBuilder { DataSource = _file }.ConnectionString;
        services.AddIsolatedSession<SqliteConnection>(async (_, ct) =>
        {
            var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(ct);
            return connection;
        });
        _services = services.BuildServiceProvider();
        if (Store == StoreKind.Sqlite)
        {
            var sql = new SqlAgentSessionStore<SqliteConnection>();
            using var setup = new SqliteConnection(connectionString);
            sql.EnsureCreatedAsync(setup).GetAwaiter().GetResult();
            _inner = sql;
        }
        else
        {
            _inner = new InMemoryAgentSessionStore();
        }

        _checked = new OwnerCheckedAgentSessionStore(_inner);
        _agent = new ChatClientAgent(new BenchmarkChatClient(), new ChatClientAgentOptions { Name = "bench" });
        _scope = _services.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("alice"));
        var session = _agent.CreateSessionAsync().AsTask().GetAwaiter().GetResult();
        _agent.RunAsync("hello", session).GetAwaiter().GetResult();
        _inner.SaveSessionAsync(_agent, _innerKey, session).AsTask().GetAwaiter().GetResult();
        var other = _agent.CreateSessionAsync().AsTask().GetAwaiter().GetResult();
        _agent.RunAsync("hello", other).GetAwaiter().GetResult();
        _checked.SaveSessionAsync(_agent, _checkedKey, other).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scope.Dispose();
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        File.Delete(_file);
    }

    [Benchmark(Baseline = true)]
    public async Task InnerStore()
    {
        var session = await _inner.GetSessionAsync(_agent, _innerKey);
        await _inner.SaveSessionAsync(_agent, _innerKey, session!);
    }

    [Benchmark]
    public async Task OwnerChecked()
    {
        var session = await _checked.GetSessionAsync(_agent, _checkedKey);
        await _checked.SaveSessionAsync(_agent, _checkedKey, session!);
    }
}
