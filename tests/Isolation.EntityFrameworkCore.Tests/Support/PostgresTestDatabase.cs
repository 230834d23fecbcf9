using Npgsql;

namespace Isolation.EntityFrameworkCore.Tests.Support;

/// <summary>
/// The PostgreSQL server the tests run against, from <c>ISOLATION_TEST_POSTGRES</c> (exported by
/// <c>.ci/setup.d/10-postgres.sh</c>). Unset locally: the test is skipped with the reason. Unset under <c>CI=true</c>: the test fails.
/// Each test works in a schema of its own, dropped at the end, so parallel test projects never collide.
/// </summary>
internal static class PostgresTestDatabase
{
    public const string Variable = "ISOLATION_TEST_POSTGRES";

    public static string ConnectionString()
    {
        var connectionString = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"{Variable} is not set although CI=true: .ci/setup.d/10-postgres.sh must install and start PostgreSQL and export it before the tests run.");
            }

            Assert.Skip($"PostgreSQL test skipped: {Variable} is not set. Run 'source .ci/setup.d/10-postgres.sh' as root (installs and starts Debian's postgresql and exports it), or set it to a Npgsql connection string.");
        }

        return connectionString;
    }

    public static string UniqueName(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N")[..12];

    public static async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString()) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
