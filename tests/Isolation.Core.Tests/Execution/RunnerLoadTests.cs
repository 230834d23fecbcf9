using System.Diagnostics;
using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Execution;

/// <summary>
/// Load properties of the runner, bounded in count and time; the measured figures are printed. Run alone, after the
/// parallel tests, so that other tests' allocations and CPU use do not blur the measurements.
/// </summary>
[Collection(nameof(RunnerLoadTests))]
public sealed class RunnerLoadTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static ServiceProvider CreateProvider(int maxPerUser = 4) =>
        new ServiceCollection()
            .AddIsolation()
            .AddScoped<ScopedDependency>()
            .AddIsolatedAgent<NotesAgent>()
            .Configure<IsolatedRunnerOptions>(o => o.MaxConcurrentRunsPerUser = maxPerUser)
            .BuildServiceProvider();

    [Fact]
    public async Task RunAsync_OneUserHammering_OtherUsersLatencyStaysWithinBound()
    {
        await using var provider = CreateProvider();
        var runner = provider.GetRequiredService<IIsolatedRunner>();
        static async Task Work(IsolationScope scope, CancellationToken ct)
        {
            scope.GetAgent<NotesAgent>().Add("step");
            await Task.Delay(1, ct); // an I/O-bound step: a model or database call
        }

        async Task<double> VictimMedianMsAsync()
        {
            var samples = new List<double>();
            for (var i = 0; i < 40; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var result = await runner.RunAsync(new UserExecutionContext("victim"), Work);
                Assert.Equal(RunStatus.Completed, result.Status);
                samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            samples.Sort();
            return samples[samples.Count / 2];
        }

        await VictimMedianMsAsync(); // warm-up
        var alone = await VictimMedianMsAsync();

        using var stop = new CancellationTokenSource();
        var rejected = 0L;
        var hammer = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await runner.RunAsync(new UserExecutionContext("hammer"), Work);
                if (result.Status == RunStatus.Rejected)
                {
                    Interlocked.Increment(ref rejected);
                    await Task.Yield();
                }
            }
        })).ToArray();
        var underLoad = await VictimMedianMsAsync().WaitAsync(Bound);
        await stop.CancelAsync();
        await Task.WhenAll(hammer).WaitAsync(Bound);

        var ratio = underLoad / Math.Max(alone, 1d);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"victim median: alone {alone:0.00} ms, with a hammering user {underLoad:0.00} ms (ratio {ratio:0.00}); hammer runs rejected: {rejected}");
        Assert.True(rejected > 0, "the hammering user was never over its limit, so the test proved nothing");
        Assert.True(ratio < 10, $"a hammering user slowed another user's runs {ratio:0.0}x (alone {alone:0.00} ms, under load {underLoad:0.00} ms)");
    }

    [Fact]
    public async Task RunAsync_HundredThousandRuns_ManagedMemoryStaysFlat()
    {
        await using var provider = CreateProvider(maxPerUser: 64);
        var runner = provider.GetRequiredService<IIsolatedRunner>();
        var registry = provider.GetRequiredService<IConnectionRegistry>();
        var sinks = Enumerable.Range(0, 16).Select(i => new CountingSink("user-" + i)).ToArray();
        var registrations = sinks.Select(registry.Register).ToArray();

        async Task RunManyAsync(int runs)
        {
            const int Loops = 16;
            await Task.WhenAll(Enumerable.Range(0, Loops).Select(loop => Task.Run(async () =>
            {
                for (var i = loop; i < runs; i += Loops)
                {
                    var result = await runner.RunAsync(new UserExecutionContext("user-" + loop), static async (scope, ct) =>
                    {
                        scope.GetAgent<NotesAgent>().Add("note");
                        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, null, ct);
                    });
                    Assert.Equal(RunStatus.Completed, result.Status);
                }
            }))).WaitAsync(Bound);
        }

        await RunManyAsync(5_000);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var watch = Stopwatch.StartNew();
        await RunManyAsync(100_000);
        watch.Stop();
        var after = GC.GetTotalMemory(forceFullCollection: true);

        var growth = after - before;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"100,000 runs in {watch.Elapsed.TotalSeconds:0.0} s ({100_000 / watch.Elapsed.TotalSeconds:0} runs/s); managed memory {before / 1024} KiB -> {after / 1024} KiB, growth {growth / 1024} KiB");
        Assert.Equal(105_000 * 3, sinks.Sum(s => s.Count));
        Assert.True(growth < 8 * 1024 * 1024, $"managed memory grew by {growth / 1024} KiB over 100,000 runs");
        Assert.Equal(105_000, provider.GetRequiredService<IsolationMonitor>().FinishedScopes);
        GC.KeepAlive(registrations);
    }

    private sealed class CountingSink(string userId) : IEventSink
    {
        private long _count;

        public string UserId { get; } = userId;

        public string ConnectionId { get; } = "counting";

        public long Count => Interlocked.Read(ref _count);

        public bool TryWrite(EventEnvelope envelope)
        {
            Interlocked.Increment(ref _count);
            return true;
        }
    }
}

[CollectionDefinition(nameof(RunnerLoadTests), DisableParallelization = true)]
public sealed class RunnerLoadCollection
{
}
