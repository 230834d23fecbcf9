using Microsoft.Data.Sqlite;

namespace Isolation.Benchmarks;

/// <summary>The SQLite session the benchmarks open: a private in-memory database, opened by the factory.</summary>
public static class Sqlite
{
    public const string ConnectionString = "Data Source=:memory:";

    public static SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>The factory given to <c>AddIsolatedSession</c>, and called directly by the unguarded baselines.</summary>
    public static ValueTask<SqliteConnection> OpenAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Open());
}
