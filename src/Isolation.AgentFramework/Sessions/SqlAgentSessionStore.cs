using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Isolation.AgentFramework.Internal;
using Microsoft.Agents.AI;

namespace Isolation.AgentFramework;

/// <summary>
/// An <see cref="AgentSessionStore"/> on SQLite or PostgreSQL: one table with the conversation key, its owner, the
/// serialized session and a version. Saves are optimistic: a session saved after another run saved the same
/// conversation fails with <see cref="AgentSessionConflictException"/> instead of overwriting it, and a write only ever
/// matches a row of the same owner. Connections come from the ambient scope's session guard
/// (<see cref="IsolationScope.OpenSessionAsync{TSession}"/>), so register <typeparamref name="TConnection"/> with
/// <c>AddIsolatedSession</c>; each operation opens the session, runs one statement and returns it.
/// </summary>
/// <remarks>
/// Wrap it in <see cref="OwnerCheckedAgentSessionStore"/>: that wrapper reports a foreign conversation id, this store
/// makes the database refuse a foreign write even when two first saves race. Create the table once with
/// <see cref="EnsureCreatedAsync"/>.
/// </remarks>
/// <typeparam name="TConnection">The connection type registered with <c>AddIsolatedSession</c> (<c>SqliteConnection</c>, <c>NpgsqlConnection</c>).</typeparam>
/// <example>
/// <code>
/// services.AddIsolatedSession&lt;SqliteConnection&gt;(async (_, ct) =&gt; { var c = new SqliteConnection(cs); await c.OpenAsync(ct); return c; });
/// services.AddSingleton&lt;AgentSessionStore&gt;(new OwnerCheckedAgentSessionStore(new SqlAgentSessionStore&lt;SqliteConnection&gt;()));
/// </code>
/// </example>
public sealed class SqlAgentSessionStore<TConnection> : AgentSessionStore
    where TConnection : DbConnection
{
    private const int MaxTableNameLength = 63;

    private static readonly ConditionalWeakTable<AgentSession, StoredVersion> Versions = new();

    private readonly string _select;
    private readonly string _insert;
    private readonly string _update;
    private readonly string _delete;
    private readonly string _create;

    /// <summary>Initializes a new instance of the <see cref="SqlAgentSessionStore{TConnection}"/> class with the default table name.</summary>
    public SqlAgentSessionStore()
        : this(new SqlAgentSessionStoreOptions())
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SqlAgentSessionStore{TConnection}"/> class.</summary>
    /// <param name="options">The table to use.</param>
    /// <exception cref="ArgumentException">The table name is not a plain SQL identifier.</exception>
    public SqlAgentSessionStore(SqlAgentSessionStoreOptions options)
    {
        Guard.NotNull(options);
        TableName = ValidateTableName(options.TableName);
        _select = $"SELECT owner_id, session_json, version FROM {TableName} WHERE conversation_key = @key";
        _insert = $"INSERT INTO {TableName} (conversation_key, owner_id, session_json, version) VALUES (@key, @owner, @json, 1) ON CONFLICT (conversation_key) DO NOTHING";
        _update = $"UPDATE {TableName} SET session_json = @json, version = version + 1 WHERE conversation_key = @key AND owner_id = @owner AND version = @version";
        _delete = $"DELETE FROM {TableName} WHERE conversation_key = @key AND owner_id = @owner";
        _create = $"CREATE TABLE IF NOT EXISTS {TableName} (conversation_key TEXT NOT NULL PRIMARY KEY, owner_id TEXT NOT NULL, session_json TEXT NOT NULL, version BIGINT NOT NULL)";
    }

    /// <summary>Gets the table that holds the sessions.</summary>
    public string TableName { get; }

    /// <summary>Creates the table if it does not exist, on a connection of the caller's (open or not; left as it was found).</summary>
    /// <param name="connection">A connection to the database.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the table exists.</returns>
    public async Task EnsureCreatedAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(connection);
        var opened = false;
        if (connection.State != ConnectionState.Open)
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            opened = true;
        }

        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = _create;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public override async ValueTask<AgentSession?> GetSessionAsync(AIAgent agent, AgentSessionStoreKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(agent);
        Guard.NotNull(key);
        var scope = ScopeRequirement.Current("SqlAgentSessionStore", nameof(GetSessionAsync));
        var conversation = ConversationKey.Of(key);
        string json;
        long version;
        var guard = await scope.OpenSessionAsync<TConnection>(cancellationToken).ConfigureAwait(false);
        await using (guard.ConfigureAwait(false))
        {
            var connection = await OpenAsync(guard, cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = _select;
            AddParameter(command, "key", conversation);
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            json = reader.GetString(1);
            version = Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture);
        }

        using var document = JsonDocument.Parse(json);
        var session = await agent.DeserializeSessionAsync(document.RootElement.Clone(), jsonSerializerOptions: null, cancellationToken).ConfigureAwait(false);
        Versions.AddOrUpdate(session, new StoredVersion(conversation, version));
        return session;
    }

    /// <inheritdoc />
    /// <exception cref="AgentSessionConflictException">The conversation was saved by another run since this session was loaded, or is stored by another owner.</exception>
    public override async ValueTask SaveSessionAsync(AIAgent agent, AgentSessionStoreKey key, AgentSession session, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(agent);
        Guard.NotNull(key);
        Guard.NotNull(session);
        var scope = ScopeRequirement.Current("SqlAgentSessionStore", nameof(SaveSessionAsync));
        var conversation = ConversationKey.Of(key);
        var owner = SessionOwnership.ReadOwner(session) ?? scope.Context.UserId;
        var state = await agent.SerializeSessionAsync(session, jsonSerializerOptions: null, cancellationToken).ConfigureAwait(false);
        var json = state.GetRawText();
        var known = Versions.TryGetValue(session, out var stored) && string.Equals(stored.Conversation, conversation, StringComparison.Ordinal)
            ? stored
            : null;

        var guard = await scope.OpenSessionAsync<TConnection>(cancellationToken).ConfigureAwait(false);
        await using (guard.ConfigureAwait(false))
        {
            var connection = await OpenAsync(guard, cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = known is null ? _insert : _update;
            AddParameter(command, "key", conversation);
            AddParameter(command, "owner", owner);
            AddParameter(command, "json", json);
            if (known is not null)
            {
                AddParameter(command, "version", known.Version);
            }

            var rows = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            if (rows != 1)
            {
                throw new AgentSessionConflictException(known is null
                    ? $"Conversation '{key.SessionId}' is already stored in table '{TableName}', so a new session cannot be saved under its id. Load it with GetSessionAsync (or GetOrCreateSessionAsync) and save the loaded session."
                    : $"Conversation '{key.SessionId}' was saved by another run after this session was loaded (version {known.Version.ToString(CultureInfo.InvariantCulture)}), or it belongs to another owner. Load it again and repeat the run; the newer history was kept.")
                {
                    SessionId = key.SessionId,
                    ExpectedVersion = known?.Version ?? 0,
                };
            }
        }

        if (known is null)
        {
            Versions.AddOrUpdate(session, new StoredVersion(conversation, 1));
        }
        else
        {
            known.Version++;
        }
    }

    /// <inheritdoc />
    public override async ValueTask DeleteSessionAsync(AIAgent agent, AgentSessionStoreKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(key);
        var scope = ScopeRequirement.Current("SqlAgentSessionStore", nameof(DeleteSessionAsync));
        var guard = await scope.OpenSessionAsync<TConnection>(cancellationToken).ConfigureAwait(false);
        await using (guard.ConfigureAwait(false))
        {
            var connection = await OpenAsync(guard, cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = _delete;
            AddParameter(command, "key", ConversationKey.Of(key));
            AddParameter(command, "owner", scope.Context.UserId);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async ValueTask<DbConnection> OpenAsync(SessionGuard<TConnection> guard, CancellationToken cancellationToken)
    {
        var connection = guard.AsDbConnection();
        if (connection.State != ConnectionState.Open)
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }

        return connection;
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static string ValidateTableName(string? tableName)
    {
        if (string.IsNullOrEmpty(tableName) || tableName.Length > MaxTableNameLength || !IsIdentifier(tableName))
        {
            throw new ArgumentException(
                $"SqlAgentSessionStoreOptions.TableName '{tableName}' is not a plain SQL identifier. Use 1 to {MaxTableNameLength} letters, digits or underscores, starting with a letter or an underscore (for example 'isolation_agent_sessions').",
                nameof(tableName));
        }

        return tableName;
    }

    private static bool IsIdentifier(string name)
    {
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private sealed class StoredVersion(string conversation, long version)
    {
        public string Conversation { get; } = conversation;

        public long Version { get; set; } = version;
    }
}
