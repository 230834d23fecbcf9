using System.Collections.Concurrent;
using System.Data.Common;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// One whole chat turn: a scope, an agent, a session, three events to the user's connection, and disposal. The session is
/// an agent conversation (<see cref="Conversation"/>: cheap, so the turn shows the cost of isolation itself) or an
/// in-memory SQLite connection running one command (opening it costs about 20 µs, which dwarfs the rest).
/// The baseline does the same work without isolation: a DI scope, a transient agent, the session made by the same
/// factory, and messages looked up by user and written to the same kind of queue. <c>IsolatedTurn</c> does it with
/// Isolation's defaults (Enforce, sampled leak detection, a new run context per turn). <c>RunnerTurn</c> runs the same work
/// through <see cref="IIsolatedRunner"/> (per-user limit, deadline, work started on the caller's thread by default, <c>agent_started</c> and
/// the terminal event sent by the runner). Goal: <c>IsolatedTurn</c> at most 2 µs over the baseline.
/// </summary>
public class TurnBenchmark
{
    private const string UserId = "alice";
    private const string ConnectionId = "c-1";
    private const string Query = "SELECT 1";
    private static readonly object Payload = new();

    private readonly ConcurrentDictionary<string, Channel<ChatMessage>> _connections = new(StringComparer.Ordinal);
    private Func<IsolationScope, CancellationToken, Task> _runnerWork = null!;
    private ServiceProvider _provider = null!;
    private IServiceScopeFactory _serviceScopes = null!;
    private IIsolationScopeFactory _scopes = null!;
    private IIsolatedRunner _runner = null!;
    private TimeProvider _time = null!;
    private ChannelSink _sink = null!;
    private IDisposable _registration = null!;
    private Channel<ChatMessage> _channel = null!;

    public enum SessionKind
    {
        Conversation,
        Sqlite,
    }

    [Params(SessionKind.Conversation, SessionKind.Sqlite)]
    public SessionKind Session { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddIsolation()
            .AddTransient<FreshAgent>()
            .AddIsolatedAgent<FreshAgent>()
            .AddIsolatedSession<Conversation>(Conversation.CreateAsync)
            .AddIsolatedSession<SqliteConnection>(Sqlite.OpenAsync)
            .BuildServiceProvider();
        _serviceScopes = _provider.GetRequiredService<IServiceScopeFactory>();
        _scopes = _provider.GetRequiredService<IIsolationScopeFactory>();
        _runner = _provider.GetRequiredService<IIsolatedRunner>();
        _time = _provider.GetRequiredService<TimeProvider>();
        _sink = new ChannelSink(UserId, ConnectionId);
        _registration = _provider.GetRequiredService<IConnectionRegistry>().Register(_sink);
        _channel = BenchmarkChannels.Create<ChatMessage>();
        _connections[UserId] = _channel;
        _runnerWork = Session == SessionKind.Conversation ? RunnerWorkWithConversationAsync : RunnerWorkWithSqliteAsync;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _registration.Dispose();

        // The runner is only asynchronously disposable.
        _provider.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public async Task<int> UnisolatedTurn()
    {
        await using (var services = _serviceScopes.CreateAsyncScope())
        {
            services.ServiceProvider.GetRequiredService<FreshAgent>().Add("hello");
            Send(AgentEventTypes.AgentThinking, 1);
            if (Session == SessionKind.Conversation)
            {
                using var conversation = await Conversation.CreateAsync(services.ServiceProvider, CancellationToken.None);
                conversation.Add("hello");
            }
            else
            {
                await using var connection = await Sqlite.OpenAsync(services.ServiceProvider, CancellationToken.None);
                await QueryAsync(connection, CancellationToken.None);
            }

            Send(AgentEventTypes.ToolCompleted, 2);
            Send(AgentEventTypes.AgentCompleted, 3);
        }

        return Drain(_channel);
    }

    [Benchmark]
    public async Task<int> IsolatedTurn()
    {
        await using (var scope = _scopes.CreateScope(new UserExecutionContext(UserId, ConnectionId)))
        {
            scope.GetAgent<FreshAgent>().Add("hello");
            await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, Payload, scope.Aborted);
            if (Session == SessionKind.Conversation)
            {
                await UseConversationAsync(scope, scope.Aborted);
            }
            else
            {
                await UseSqliteAsync(scope, scope.Aborted);
            }

            await scope.Events.EmitAsync(AgentEventTypes.ToolCompleted, Payload, scope.Aborted);
            await scope.Events.EmitAsync(AgentEventTypes.AgentCompleted, Payload, scope.Aborted);
        }

        return _sink.Drain();
    }

    [Benchmark]
    public async Task<int> RunnerTurn()
    {
        var result = await _runner.RunAsync(new UserExecutionContext(UserId, ConnectionId), _runnerWork);
        if (result.Status != RunStatus.Completed)
        {
            throw new InvalidOperationException("The benchmark run did not complete: " + result.Status, result.Exception);
        }

        return _sink.Drain();
    }

    // The runner sends agent_started and agent_completed: one event here makes three, as in the other turns.
    private static async Task RunnerWorkWithConversationAsync(IsolationScope scope, CancellationToken cancellationToken)
    {
        scope.GetAgent<FreshAgent>().Add("hello");
        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, Payload, cancellationToken);
        await UseConversationAsync(scope, cancellationToken);
    }

    private static async Task RunnerWorkWithSqliteAsync(IsolationScope scope, CancellationToken cancellationToken)
    {
        scope.GetAgent<FreshAgent>().Add("hello");
        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, Payload, cancellationToken);
        await UseSqliteAsync(scope, cancellationToken);
    }

    private static async Task UseConversationAsync(IsolationScope scope, CancellationToken cancellationToken)
    {
        await using var session = await scope.OpenSessionAsync<Conversation>(cancellationToken);
        using (session.Enter())
        {
            session.Session.Add("hello");
        }
    }

    private static async Task UseSqliteAsync(IsolationScope scope, CancellationToken cancellationToken)
    {
        await using var session = await scope.OpenSessionAsync<SqliteConnection>(cancellationToken);
        await QueryAsync(session.AsDbConnection(), cancellationToken);
    }

    private static async Task QueryAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Query;
        if (await command.ExecuteScalarAsync(cancellationToken) is not long one || one != 1)
        {
            throw new InvalidOperationException("SELECT 1 did not return 1.");
        }
    }

    private static int Drain(Channel<ChatMessage> channel)
    {
        var count = 0;
        while (channel.Reader.TryRead(out _))
        {
            count++;
        }

        return count;
    }

    private void Send(string type, long sequence)
    {
        if (_connections.TryGetValue(UserId, out var channel))
        {
            channel.Writer.TryWrite(new ChatMessage(UserId, ConnectionId, RunId: null, sequence, _time.GetUtcNow(), type, Payload));
        }
    }
}
