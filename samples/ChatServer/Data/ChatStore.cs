using System.Data.Common;
using Dapper;
using Isolation;

namespace ChatServer.Data;

/// <summary>
/// The conversation history. Every method opens its own session through the scope (<c>OpenSessionAsync</c>), so it is
/// bound to the scope's user and run, bounded by the session pool, checked on every command, and closed before the
/// method returns: sessions are never held across a model call. Every query is filtered by the scope's user id,
/// which comes from the scope (the token), never from a message.
/// </summary>
public static class ChatStore
{
    public static async Task EnsureSchemaAsync(IsolationScope scope, ChatDatabase database, CancellationToken cancellationToken)
    {
        await using var session = await scope.OpenSessionAsync<DbConnection>(cancellationToken);
        var db = session.AsDbConnection();
        var sql = database.Provider == ChatDatabaseProvider.PostgreSql
            ? """
              CREATE TABLE IF NOT EXISTS chat_messages (
                  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                  user_id TEXT NOT NULL,
                  thread_id TEXT NOT NULL,
                  run_id TEXT NOT NULL,
                  role TEXT NOT NULL,
                  text TEXT NOT NULL,
                  created_at BIGINT NOT NULL);
              CREATE INDEX IF NOT EXISTS chat_messages_user_thread ON chat_messages (user_id, thread_id, id);
              """
            : """
              PRAGMA journal_mode = WAL;
              CREATE TABLE IF NOT EXISTS chat_messages (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  user_id TEXT NOT NULL,
                  thread_id TEXT NOT NULL,
                  run_id TEXT NOT NULL,
                  role TEXT NOT NULL,
                  text TEXT NOT NULL,
                  created_at INTEGER NOT NULL);
              CREATE INDEX IF NOT EXISTS chat_messages_user_thread ON chat_messages (user_id, thread_id, id);
              """;
        await db.ExecuteAsync(new CommandDefinition(sql, cancellationToken: cancellationToken));
    }

    /// <summary>Stores a message of the scope's user and returns the thread's latest messages (oldest first), this one included.</summary>
    public static async Task<IReadOnlyList<ChatMessageRow>> AppendAndLoadAsync(
        IsolationScope scope, string role, string text, int historyLimit, CancellationToken cancellationToken)
    {
        var context = scope.Context;
        await using var session = await scope.OpenSessionAsync<DbConnection>(cancellationToken);
        var db = session.AsDbConnection();
        await using (var transaction = await db.BeginTransactionAsync(cancellationToken))
        {
            await db.ExecuteAsync(new CommandDefinition(
                "INSERT INTO chat_messages (user_id, thread_id, run_id, role, text, created_at) VALUES (@UserId, @ThreadId, @RunId, @Role, @Text, @CreatedAt)",
                new { context.UserId, ThreadId = ThreadOf(context), context.RunId, Role = role, Text = text, CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
                transaction,
                cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
        }

        var rows = await db.QueryAsync<ChatMessageRow>(new CommandDefinition(
            "SELECT id AS Id, user_id AS UserId, thread_id AS ThreadId, run_id AS RunId, role AS Role, text AS Text, created_at AS CreatedAt " +
            "FROM chat_messages WHERE user_id = @UserId AND thread_id = @ThreadId ORDER BY id DESC LIMIT @Limit",
            new { context.UserId, ThreadId = ThreadOf(context), Limit = historyLimit },
            cancellationToken: cancellationToken));
        var list = rows.ToList();
        list.Reverse();
        return list;
    }

    /// <summary>Stores a message of the scope's user.</summary>
    public static async Task AppendAsync(IsolationScope scope, string role, string text, CancellationToken cancellationToken)
    {
        var context = scope.Context;
        await using var session = await scope.OpenSessionAsync<DbConnection>(cancellationToken);
        await session.AsDbConnection().ExecuteAsync(new CommandDefinition(
            "INSERT INTO chat_messages (user_id, thread_id, run_id, role, text, created_at) VALUES (@UserId, @ThreadId, @RunId, @Role, @Text, @CreatedAt)",
            new { context.UserId, ThreadId = ThreadOf(context), context.RunId, Role = role, Text = text, CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken));
    }

    /// <summary>Counts the scope's user's messages, all threads: the <c>count_messages</c> tool.</summary>
    public static async Task<long> CountMessagesAsync(IsolationScope scope, CancellationToken cancellationToken)
    {
        await using var session = await scope.OpenSessionAsync<DbConnection>(cancellationToken);
        return await session.AsDbConnection().ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM chat_messages WHERE user_id = @UserId",
            new { scope.Context.UserId },
            cancellationToken: cancellationToken));
    }

    /// <summary>Returns the scope's user's latest messages of a thread, oldest first (the chat page's history).</summary>
    public static async Task<IReadOnlyList<ChatMessageRow>> LoadThreadAsync(IsolationScope scope, int limit, CancellationToken cancellationToken)
    {
        var context = scope.Context;
        await using var session = await scope.OpenSessionAsync<DbConnection>(cancellationToken);
        var rows = await session.AsDbConnection().QueryAsync<ChatMessageRow>(new CommandDefinition(
            "SELECT id AS Id, user_id AS UserId, thread_id AS ThreadId, run_id AS RunId, role AS Role, text AS Text, created_at AS CreatedAt " +
            "FROM chat_messages WHERE user_id = @UserId AND thread_id = @ThreadId ORDER BY id DESC LIMIT @Limit",
            new { context.UserId, ThreadId = ThreadOf(context), Limit = limit },
            cancellationToken: cancellationToken));
        var list = rows.ToList();
        list.Reverse();
        return list;
    }

    /// <summary>Runs a query against a table that does not exist: the injected database error (<c>#dberror</c>).</summary>
    public static async Task QueryMissingTableAsync(IsolationScope scope, CancellationToken cancellationToken)
    {
        await using var session = await scope.OpenSessionAsync<DbConnection>(cancellationToken);
        await session.AsDbConnection().ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM chat_messages_missing_table WHERE user_id = @UserId",
            new { scope.Context.UserId },
            cancellationToken: cancellationToken));
    }

    private static string ThreadOf(UserExecutionContext context) => context.ThreadId ?? "main";
}
