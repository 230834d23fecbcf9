using Microsoft.Agents.AI;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Isolation.AgentFramework.Tests.Support;

/// <summary>Where a test's conversations are stored.</summary>
public enum StoreKind
{
    Memory,
    Sqlite,
    Postgres,
}

/// <summary>
/// The isolation runtime, a real <see cref="ChatClientAgent"/> over <see cref="ScriptedChatClient"/> behind
/// <see cref="IsolatedAIAgent"/>, and an <see cref="OwnerCheckedAgentSessionStore"/> over a real store.
/// </summary>
internal sealed class AgentTestHost : IAsyncDisposable
{
    private readonly string? _postgresTable;
    private readonly string? _postgres;
    private readonly string? _sqliteFile;
    private readonly bool _ownsFile;

    private AgentTestHost(
        ServiceProvider provider,
        ScriptedChatClient model,
        AIAgent agent,
        AgentSessionStore inner,
        string? sqliteFile,
        bool ownsFile,
        string? postgres,
        string? postgresTable)
    {
        Provider = provider;
        Model = model;
        Agent = agent;
        InnerStore = inner;
        Store = new OwnerCheckedAgentSessionStore(inner);
        Factory = provider.GetRequiredService<IIsolationScopeFactory>();
        Monitor = provider.GetRequiredService<IsolationMonitor>();
        Registry = provider.GetRequiredService<ConnectionRegistry>();
        _sqliteFile = sqliteFile;
        _ownsFile = ownsFile;
        _postgres = postgres;
        _postgresTable = postgresTable;
    }

    public ServiceProvider Provider { get; }

    public ScriptedChatClient Model { get; }

    public AIAgent Agent { get; }

    public AgentSessionStore InnerStore { get; }

    public OwnerCheckedAgentSessionStore Store { get; }

    public IIsolationScopeFactory Factory { get; }

    public IsolationMonitor Monitor { get; }

    public ConnectionRegistry Registry { get; }

    public string? SqliteFile => _sqliteFile;

    public string? PostgresTable => _postgresTable;

    public static async Task<AgentTestHost> CreateAsync(
        StoreKind kind,
        IsolationMode mode = IsolationMode.Enforce,
        Action<IsolatedAIAgentOptions>? agentOptions = null,
        string? sqliteFile = null,
        string? postgresTable = null,
        Func<AIAgentBuilder, AIAgentBuilder>? pipeline = null)
    {
        var services = new ServiceCollection();
        services.AddIsolation(o => o.Mode = mode);
        var model = new ScriptedChatClient();
        AgentSessionStore inner;
        string? postgres = null;
        var ownsFile = false;
        switch (kind)
        {
            case StoreKind.Memory:
                inner = new InMemoryAgentSessionStore();
                break;
            case StoreKind.Sqlite:
                ownsFile = sqliteFile is null;
                sqliteFile ??= Path.Combine(Path.GetTempPath(), "iso_af_" + Guid.NewGuid().ToString("N") + ".db");
                var sqlite = new SqliteConnectionStringBuilder { DataSource = sqliteFile, DefaultTimeout = 60 }.ConnectionString;
                services.AddIsolatedSession<SqliteConnection>(async (_, ct) =>
                {
                    var connection = new SqliteConnection(sqlite);
                    await connection.OpenAsync(ct);
                    return connection;
                });
                var sqliteStore = new SqlAgentSessionStore<SqliteConnection>();
                await using (var setup = new SqliteConnection(sqlite))
                {
                    await setup.OpenAsync();
                    await using (var wal = setup.CreateCommand())
                    {
                        wal.CommandText = "PRAGMA journal_mode=WAL";
                        await wal.ExecuteNonQueryAsync();
                    }

                    await sqliteStore.EnsureCreatedAsync(setup);
                }

                inner = sqliteStore;
                break;
            default:
                postgres = PostgresTestDatabase.ConnectionString();
                postgresTable ??= PostgresTestDatabase.UniqueTable();
                var dataSource = postgres;
                services.AddIsolatedSession<NpgsqlConnection>(async (_, ct) =>
                {
                    var connection = new NpgsqlConnection(dataSource);
                    await connection.OpenAsync(ct);
                    return connection;
                }, o => o.MaxSessions = 20);
                var pgStore = new SqlAgentSessionStore<NpgsqlConnection>(new SqlAgentSessionStoreOptions { TableName = postgresTable });
                await using (var setup = new NpgsqlConnection(postgres))
                {
                    await pgStore.EnsureCreatedAsync(setup);
                }

                inner = pgStore;
                break;
        }

        var chatAgent = new ChatClientAgent(
            model,
            new ChatClientAgentOptions
            {
                Name = "support",
                ChatOptions = new ChatOptions { Tools = [AIFunctionFactory.Create((string query) => "found " + query, "lookup")] },
            });
        var builder = chatAgent.AsBuilder();
        builder = pipeline is null ? builder.UseIsolation(agentOptions) : pipeline(builder);
        var agent = builder.Build();
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        return new AgentTestHost(provider, model, agent, inner, sqliteFile, ownsFile, postgres, postgresTable);
    }

    /// <summary>Runs one turn of <paramref name="userId"/> on <paramref name="conversationId"/>: load or create, run, save.</summary>
    public async Task<string> TurnAsync(string userId, string conversationId, string message, CancellationToken cancellationToken)
    {
        await using var scope = Factory.CreateScope(new UserExecutionContext(userId, threadId: conversationId));
        var key = new AgentSessionStoreKey(conversationId);
        var session = await Store.GetOrCreateSessionAsync(Agent, key, cancellationToken);
        var response = await Agent.RunAsync(message, session, cancellationToken: cancellationToken);
        await Store.SaveSessionAsync(Agent, key, session, cancellationToken);
        return response.Text;
    }

    /// <summary>Reads what the store holds for a conversation, as its owner, and returns the user texts in its history.</summary>
    public async Task<string[]> HistoryAsync(string ownerId, string conversationId, CancellationToken cancellationToken)
    {
        await using var scope = Factory.CreateScope(new UserExecutionContext(ownerId));
        var session = await Store.GetSessionAsync(Agent, new AgentSessionStoreKey(conversationId), cancellationToken);
        if (session is null)
        {
            return [];
        }

        var history = Agent.GetService<ChatClientAgent>()!.ChatHistoryProvider as InMemoryChatHistoryProvider;
        return history!.GetMessages(session).Where(m => m.Role == ChatRole.User).Select(m => m.Text).ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await Provider.DisposeAsync();
        if (_postgres is not null && _postgresTable is not null)
        {
            await PostgresTestDatabase.DropTableAsync(_postgres, _postgresTable);
        }

        if (_ownsFile && _sqliteFile is not null)
        {
            SqliteConnection.ClearAllPools();
            foreach (var file in new[] { _sqliteFile, _sqliteFile + "-wal", _sqliteFile + "-shm" })
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Keeps the database (for a restart test): disposes the services only.</summary>
    public ValueTask DisposeServicesAsync() => Provider.DisposeAsync();
}
