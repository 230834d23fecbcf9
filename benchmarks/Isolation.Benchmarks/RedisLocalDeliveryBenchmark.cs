using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Isolation.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Isolation.Benchmarks;

/// <summary>
/// Local delivery with Redis configured: one event to a user whose only connection is on this node, through
/// <see cref="RedisConnectionRegistry"/> (on a real Redis, <c>ISOLATION_TEST_REDIS</c>), against the same delivery through
/// the default <see cref="ConnectionRegistry"/> of a node without Redis. Goal (issue 16): the same cost, ratio about 1.
/// </summary>
public class RedisLocalDeliveryBenchmark
{
    private ServiceProvider _plain = null!;
    private ServiceProvider _withRedis = null!;
    private IConnectionRegistry _plainRegistry = null!;
    private IConnectionRegistry _redisRegistry = null!;
    private IDisposable[] _registrations = null!;
    private EventEnvelope _envelope = null!;

    [GlobalSetup]
    public void Setup()
    {
        var redis = Environment.GetEnvironmentVariable("ISOLATION_TEST_REDIS");
        if (string.IsNullOrWhiteSpace(redis))
        {
            throw new InvalidOperationException("RedisLocalDeliveryBenchmark needs a Redis: set ISOLATION_TEST_REDIS (source .ci/setup.d/30-redis.sh) to a StackExchange.Redis configuration string.");
        }

        _plain = new ServiceCollection().AddIsolation().BuildServiceProvider();
        _withRedis = new ServiceCollection().AddIsolation().AddRedisEventDelivery(o =>
        {
            o.Configuration = redis;
            o.EnvironmentPrefix = "bench-local-" + Guid.NewGuid().ToString("N")[..8];
            o.SigningKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        }).BuildServiceProvider();
        foreach (var hosted in _withRedis.GetServices<IHostedService>())
        {
            hosted.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        }

        _plainRegistry = _plain.GetRequiredService<IConnectionRegistry>();
        _redisRegistry = _withRedis.GetRequiredService<IConnectionRegistry>();
        _registrations = [_plainRegistry.Register(new CountingSink("alice", "c-1")), _redisRegistry.Register(new CountingSink("alice", "c-1"))];
        _envelope = new EventEnvelope("alice", "c-1", "run-1", 1, DateTimeOffset.UnixEpoch, AgentEventTypes.AgentThinking, payload: null);

        // The first event of a user asks Redis where its connections are; wait for that answer, as a running node has it.
        _redisRegistry.Publish(_envelope);
        Thread.Sleep(500);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        foreach (var hosted in _withRedis.GetServices<IHostedService>())
        {
            hosted.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        }

        _withRedis.Dispose();
        _plain.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int WithoutRedis() => _plainRegistry.Publish(_envelope).Delivered;

    [Benchmark]
    public int WithRedis() => _redisRegistry.Publish(_envelope).Delivered;
}
