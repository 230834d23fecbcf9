using Npgsql;

namespace Isolation.Tests.Support;

/// <summary>
/// The PostgreSQL server the tests run against, from <c>ISOLATION_TEST_POSTGRES</c> (exported by
/// <c>.ci/setup.d/10-postgres.sh</c>). Unset locally: the test is skipped with the reason. Unset under <c>CI=true</c>: the test fails.
/// </summary>
internal static class PostgresTestDatabase
{
    public const string Variable = "ISOLATION_TEST_POSTGRES";

    /// <summary>Returns the connection string with a unique application name, so a test can find its own server connections in pg_stat_activity.</summary>
    public static string ConnectionString(string applicationName, bool pooling = true)
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

        return new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = applicationName,
            Pooling = pooling,
        }.ConnectionString;
    }

    public static string UniqueName(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Opens a plain (unguarded) connection for setup and inspection, under its own application name.</summary>
    public static async Task<NpgsqlConnection> OpenAdminAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(ConnectionString(UniqueName("iso_admin"), pooling: false));
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>Counts the server backends of <paramref name="applicationName"/>, optionally only those in one of the given states.</summary>
    public static async Task<long> CountBackendsAsync(NpgsqlConnection admin, string applicationName, string? stateFilter, CancellationToken cancellationToken)
    {
        await using var command = admin.CreateCommand();
        command.CommandText = stateFilter is null
            ? "SELECT count(*) FROM pg_stat_activity WHERE application_name = @app"
            : "SELECT count(*) FROM pg_stat_activity WHERE application_name = @app AND state = ANY(string_to_array(@states, ','))";
        command.Parameters.AddWithValue("app", applicationName);
        if (stateFilter is not null)
        {
            command.Parameters.AddWithValue("states", stateFilter);
        }

        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Waits until the server shows no backend of <paramref name="applicationName"/> any more. A closed client connection
    /// ends its server process asynchronously, and the server offers nothing to wait on, so this polls, bounded by <paramref name="timeout"/>.
    /// </summary>
    public static async Task<long> WaitForNoBackendsAsync(NpgsqlConnection admin, string applicationName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var count = await CountBackendsAsync(admin, applicationName, stateFilter: null, cancellationToken);
            if (count == 0 || DateTime.UtcNow > deadline)
            {
                return count;
            }

            await Task.Delay(25, cancellationToken);
        }
    }
}
