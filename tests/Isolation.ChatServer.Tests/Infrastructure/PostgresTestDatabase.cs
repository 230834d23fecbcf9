using Npgsql;

namespace ChatServer.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server from <c>ISOLATION_TEST_POSTGRES</c> (exported by <c>.ci/setup.d/10-postgres.sh</c>). Unset locally: the
/// test is skipped with the reason. Unset under <c>CI=true</c>: the test fails.
/// </summary>
internal static class PostgresTestDatabase
{
    public const string Variable = "ISOLATION_TEST_POSTGRES";

    public static string RequireConnectionString()
    {
        var connectionString = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"{Variable} is not set although CI=true: .ci/setup.d/10-postgres.sh must install and start PostgreSQL and export it before the tests run.");
            }

            Assert.Skip($"PostgreSQL test skipped: {Variable} is not set. Run 'source .ci/setup.d/10-postgres.sh' as root, or set it to a Npgsql connection string.");
        }

        return connectionString;
    }

    /// <summary>Creates a schema of its own for one test and returns a connection string whose search path is that schema.</summary>
    public static async Task<(string ConnectionString, string Schema)> CreateSchemaAsync(CancellationToken cancellationToken)
    {
        var baseString = RequireConnectionString();
        var schema = "chat_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(baseString))
        {
            await admin.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", admin);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return (new NpgsqlConnectionStringBuilder(baseString) { SearchPath = schema, ApplicationName = schema }.ConnectionString, schema);
    }

    public static async Task DropSchemaAsync(string schema)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(RequireConnectionString());
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", admin);
        await command.ExecuteNonQueryAsync();
    }
}
