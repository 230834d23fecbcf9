using Isolation.Redis.Internal;
using Isolation.Redis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Isolation.Redis.Tests;

/// <summary>
/// A user's second connection registers on node B and a run of the user starts on node A right away (a client told it is
/// registered starts a run at once). The registration must be visible in Redis when it returns, so A's first lookup of
/// the user finds B and B receives every event of the run. With the presence record written without waiting for Redis,
/// A's lookup could run before the record arrived: A cached "only here" and B silently missed the run.
/// </summary>
public sealed class PresenceRaceTests
{
    private const int Users = 25;

    [Fact]
    public async Task Register_WhenItReturns_ThePresenceRecordIsInRedis()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("regwait");
        await using var b = await TestNode.StartAsync(redis, prefix, RedisTestEnvironment.NewKey(), ct, o => o.NodeId = "node-b");
        await using var probe = await ConnectionMultiplexer.ConnectAsync(redis);
        var db = probe.GetDatabase();
        var registrations = new List<IDisposable>();
        var missing = new List<string>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var userId = "user-" + i;
                registrations.Add(b.Registry.Register(new CollectingSink(userId, "tab")));

                // Read at once, on another connection: what any other node's lookup would see now.
                var score = await db.SortedSetScoreAsync(RedisNames.PresenceKeyFor(prefix, userId), "node-b");
                if (score is null)
                {
                    missing.Add(userId);
                }
            }
        }
        finally
        {
            registrations.ForEach(r => r.Dispose());
        }

        Assert.True(missing.Count == 0, $"{missing.Count} of 200 registrations had returned before their presence record was in Redis: {string.Join(", ", missing.Take(10))}");
    }

    [Fact]
    public async Task Publish_RunStartsRightAfterTheSecondConnectionRegisteredOnB_BReceivesEveryEvent()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("race");
        var key = RedisTestEnvironment.NewKey();
        await using var a = await TestNode.StartAsync(redis, prefix, key, ct, o => o.NodeId = "node-a");
        await using var b = await TestNode.StartAsync(redis, prefix, key, ct, o => o.NodeId = "node-b");
        var lost = new List<string>();
        for (var i = 0; i < Users; i++)
        {
            var userId = "user-" + i;
            await using var onA = await TestClient.ConnectAsync(a, userId, "tab-1", ct);
            await using var onB = await TestClient.ConnectAsync(b, userId, "tab-2", ct); // returns once B has registered it

            // No wait for presence: the registration on B has completed, so the run's every event must reach B.
            var result = await a.RunAsync(userId, "run-" + i, events: 3, ct);
            Assert.Equal(RunStatus.Completed, result.Status);
            Assert.Equal([1L, 2L, 3L, 4L, 5L], (await onA.ReceiveRunAsync("run-" + i, ct)).Select(e => e.Sequence));
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                var onBEvents = await onB.ReceiveRunAsync("run-" + i, wait.Token);
                Assert.Equal([1L, 2L, 3L, 4L, 5L], onBEvents.Select(e => e.Sequence));
                Assert.All(onBEvents, e => Assert.Equal(userId, e.UserId));
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                lost.Add($"{userId}: B got {string.Join(",", onB.Drain().Select(e => e.Sequence))} of 1..5");
            }
        }

        Assert.True(lost.Count == 0, $"{lost.Count} of {Users} first runs lost events on node B: {string.Join("; ", lost)}");
        Assert.Equal(0, a.DroppedCount(RedisDropReasons.NoConnection));
    }

    [Fact]
    public async Task Publish_SenderHeldALocalOnlyAnswer_PresenceNoticeDropsItAndTheNextRunReachesB()
    {
        var ct = TestContext.Current.CancellationToken;
        var redis = RedisTestEnvironment.ConnectionString();
        var prefix = RedisTestEnvironment.UniquePrefix("notice");
        var key = RedisTestEnvironment.NewKey();

        // A cache duration far longer than the test: without the notice, A would trust "only here" for 20 s.
        await using var a = await TestNode.StartAsync(redis, prefix, key, ct, o => { o.NodeId = "node-a"; o.PresenceCacheDuration = TimeSpan.FromSeconds(20); });
        await using var b = await TestNode.StartAsync(redis, prefix, key, ct, o => o.NodeId = "node-b");
        await using var onA = await TestClient.ConnectAsync(a, "alice", "tab-1", ct);
        await a.RunAsync("alice", "run-1", events: 1, ct);
        Assert.Equal([1L, 2L, 3L], (await onA.ReceiveRunAsync("run-1", ct)).Select(e => e.Sequence));
        var slot = a.Services.GetRequiredService<RedisBackplane>().PresenceSlot;
        await WaitForAsync(() => slot.TryGet("alice", out var answer) && answer is { LocalOnly: true }, "A never learned that alice is only on A", ct);

        await using var onB = await TestClient.ConnectAsync(b, "alice", "tab-2", ct);

        // The notice reaches A one pub/sub hop after B's registration returned: A drops its answer.
        await WaitForAsync(() => slot.TryGet("alice", out var answer) && answer is { LocalOnly: false }, "A kept its 'only here' answer after alice connected on B", ct);
        await a.RunAsync("alice", "run-2", events: 1, ct);

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(TimeSpan.FromSeconds(10));
        Assert.Equal([1L, 2L, 3L], (await onB.ReceiveRunAsync("run-2", wait.Token)).Where(e => e.RunId == "run-2").Select(e => e.Sequence));
        Assert.Equal([1L, 2L, 3L], (await onA.ReceiveRunAsync("run-2", ct)).Select(e => e.Sequence));
    }

    private static async Task WaitForAsync(Func<bool> condition, string failure, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure + " (waited 10 s)");
            await Task.Delay(20, cancellationToken);
        }
    }

    private sealed class CollectingSink(string userId, string connectionId) : IEventSink
    {
        public string UserId { get; } = userId;

        public string ConnectionId { get; } = connectionId;

        public bool TryWrite(EventEnvelope envelope) => string.Equals(envelope.UserId, UserId, StringComparison.Ordinal);
    }
}
