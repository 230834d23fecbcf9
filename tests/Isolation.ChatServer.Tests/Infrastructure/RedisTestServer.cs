namespace ChatServer.Tests.Infrastructure;

/// <summary>
/// The Redis server from <c>ISOLATION_TEST_REDIS</c> (exported by <c>.ci/setup.d/30-redis.sh</c>). Unset locally: the test
/// is skipped with the reason. Unset under <c>CI=true</c>: the test fails.
/// </summary>
internal static class RedisTestServer
{
    public const string Variable = "ISOLATION_TEST_REDIS";

    public static string RequireConfiguration()
    {
        var configuration = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(configuration))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"{Variable} is not set although CI=true: .ci/setup.d/30-redis.sh must install and start Redis and export it before the tests run.");
            }

            Assert.Skip($"Redis test skipped: {Variable} is not set. Run 'source .ci/setup.d/30-redis.sh' as root, or set it to a StackExchange.Redis configuration string.");
        }

        return configuration;
    }
}
