using System.Data.Common;
using Dapper;
using Isolation;
using Isolation.AgentFramework;

namespace ChatServer.Data;

/// <summary>
/// The database work outside the agent's own store: creating the schema, and the injected database error. Conversations
/// themselves are stored by <see cref="SqlAgentSessionStore{TConnection}"/> (table <c>isolation_agent_sessions</c>: one row
/// per conversation, with its owner, the serialized session and a version). Every access opens its own session through the
/// scope (<c>OpenSessionAsync</c>), bound to the scope's user and run, and closes it before returning.
/// </summary>
public static class ChatStore
{
    /// <summary>Creates the conversations table (idempotent); on SQLite, switches the database to WAL first.</summary>
    public static async Task EnsureSchemaAsync(IsolationScope scope, ChatDatabase database, SqlAgentSessionStore<DbConnection> conversations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(conversations);
        await using var session = await scope.OpenSessionAsync<DbConnection>(cancellationToken);
        var db = session.AsDbConnection();
        if (database.Provider == ChatDatabaseProvider.Sqlite)
        {
            await db.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode = WAL;", cancellationToken: cancellationToken));
        }

        await conversations.EnsureCreatedAsync(db, cancellationToken);
    }

    /// <summary>Runs a query against a table that does not exist: the injected database error (<c>#dberror</c>).</summary>
    public static async Task QueryMissingTableAsync(IsolationScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var session = await scope.OpenSessionAsync<DbConnection>(cancellationToken);
        await session.AsDbConnection().ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM chat_messages_missing_table WHERE user_id = @UserId",
            new { scope.Context.UserId },
            cancellationToken: cancellationToken));
    }
}
