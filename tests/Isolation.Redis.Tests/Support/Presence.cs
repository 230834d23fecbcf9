using StackExchange.Redis;

namespace Isolation.Redis.Tests.Support;

/// <summary>Waits (bounded) until Redis shows the expected presence, so a test starts its run once the nodes can see each other.</summary>
internal static class Presence
{
    public static async Task WaitForNodesAsync(string redis, string prefix, string userId, int nodes, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis);
        var key = Isolation.Redis.Internal.RedisNames.PresenceKeyFor(prefix, userId);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var count = await connection.GetDatabase().SortedSetLengthAsync(key, now, double.PositiveInfinity);
            if (count >= nodes)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Presence of '{userId}' did not reach {nodes} node(s) within 10 s (has {count}).");
            await Task.Delay(20, cancellationToken);
        }
    }
}
