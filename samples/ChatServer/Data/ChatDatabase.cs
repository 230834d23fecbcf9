using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ChatServer.Data;

/// <summary>Which database the chat history lives in, and how to open a connection to it.</summary>
public sealed class ChatDatabase
{
    private ChatDatabase(ChatDatabaseProvider provider, string connectionString, string description)
    {
        Provider = provider;
        ConnectionString = connectionString;
        Description = description;
    }

    public ChatDatabaseProvider Provider { get; }

    public string ConnectionString { get; }

    /// <summary>Gets where the data is, for the start-up log (no password).</summary>
    public string Description { get; }

    /// <summary>
    /// PostgreSQL when <paramref name="postgresConnectionString"/> is set (<c>ConnectionStrings:Chat</c>); otherwise SQLite in
    /// <c>chat.db</c> under <paramref name="dataDirectory"/>, which is created when missing.
    /// </summary>
    public static ChatDatabase Create(string? postgresConnectionString, string dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(postgresConnectionString))
        {
            var builder = new NpgsqlConnectionStringBuilder(postgresConnectionString);
            return new ChatDatabase(ChatDatabaseProvider.PostgreSql, postgresConnectionString, $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}");
        }

        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, "chat.db");
        var sqlite = new SqliteConnectionStringBuilder
        {
            DataSource = file,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        };
        return new ChatDatabase(ChatDatabaseProvider.Sqlite, sqlite.ToString(), "SQLite " + Path.GetFullPath(file));
    }

    /// <summary>Opens a new connection: the factory behind the isolated session pool, so every session is a new one.</summary>
    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = Provider == ChatDatabaseProvider.PostgreSql
            ? new NpgsqlConnection(ConnectionString)
            : new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (Provider == ChatDatabaseProvider.Sqlite)
            {
                // Per connection: wait for a writer instead of failing at once; WAL itself is set once, with the schema.
                await using var pragma = connection.CreateCommand();
                pragma.CommandText = "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
