using Isolation.Redis.Tests.Support;

namespace Isolation.Redis.Tests;

/// <summary>Bounded load across three nodes: concurrent runs of many users, zero cross-user events, every run in order.</summary>
public sealed class CrossNodeLoadTests
{
    private const int Users = 20;
    private const int EventsPerRun = 10;

    [Fact]
    public async Task Publish_20UsersOn3NodesConcurrentRuns_NoCrossUserEventAndEveryRunInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("load");
        var key = RedisTestEnvironment.NewKey();
        await using var n0 = await TestNode.StartAsync(redis, prefix, key, ct);
        await using var n1 = await TestNode.StartAsync(redis, prefix, key, ct);
        await using var n2 = await TestNode.StartAsync(redis, prefix, key, ct);
        TestNode[] nodes = [n0, n1, n2];

        // Every user has a socket on two nodes (user i on nodes i%3 and (i+1)%3) and runs on every node at once.
        var clients = new List<TestClient>();
        try
        {
            for (var i = 0; i < Users; i++)
            {
                clients.Add(await TestClient.ConnectAsync(nodes[i % 3], User(i), "s1", ct));
                clients.Add(await TestClient.ConnectAsync(nodes[(i + 1) % 3], User(i), "s2", ct));
            }

            for (var i = 0; i < Users; i++)
            {
                await Presence.WaitForNodesAsync(redis, prefix, User(i), 2, ct);
            }

            var runs = new List<Task<RunResult>>();
            for (var i = 0; i < Users; i++)
            {
                for (var n = 0; n < nodes.Length; n++)
                {
                    runs.Add(nodes[n].RunAsync(User(i), $"{User(i)}-run-{n}", EventsPerRun, ct));
                }
            }

            var results = await Task.WhenAll(runs);
            Assert.All(results, r => Assert.Equal(RunStatus.Completed, r.Status));

            foreach (var client in clients)
            {
                // Each socket sees its user's three runs, each complete and in sequence order, and nothing of anyone else.
                var byRun = new Dictionary<string, List<long>>(StringComparer.Ordinal);
                var ended = 0;
                while (ended < nodes.Length)
                {
                    var received = await client.ReceiveAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
                    Assert.Equal(client.UserId, received.UserId);
                    Assert.StartsWith(client.UserId + "-run-", received.RunId, StringComparison.Ordinal);
                    if (!byRun.TryGetValue(received.RunId, out var sequences))
                    {
                        byRun[received.RunId] = sequences = [];
                    }

                    sequences.Add(received.Sequence);
                    if (AgentEventTypes.IsTerminal(received.Type))
                    {
                        ended++;
                    }
                }

                Assert.Equal(nodes.Length, byRun.Count);
                Assert.All(byRun.Values, s => Assert.Equal(Enumerable.Range(1, EventsPerRun + 2).Select(x => (long)x), s));
            }

            Assert.All(nodes, n => Assert.Equal(0, n.DroppedCount(RedisDropReasons.BackplaneForged) + n.DroppedCount(RedisDropReasons.BackplaneReplayed) + n.DroppedCount("event_leak")));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static string User(int i) => "user-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
