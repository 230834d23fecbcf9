using Npgsql;

namespace Isolation.AgentFramework.Tests.Support;

/// <summary>
/// The PostgreSQL server from <c>ISOLATION_TEST_POSTGRES</c> (exported by <c>.ci/setup.d/10-postgres.sh</c>). Unset locally:
/// the test is skipped with the reason. Unset under <c>CI=true</c>: the test fails.
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

        return new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "iso_af_tests" }.ConnectionString;
    }

    /// <summary>A table name of this test project's own, unique per call, so parallel test projects and tests never collide.</summary>
    public static string UniqueTable() => "iso_af_sessions_" + Guid.NewGuid().ToString("N")[..12];

    public static async Task DropTableAsync(string connectionString, string table)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "DROP TABLE IF EXISTS " + table;
        await command.ExecuteNonQueryAsync();
    }
}
