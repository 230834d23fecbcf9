using System.Diagnostics;
using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Execution;

/// <summary>
/// Load properties of the runner, bounded in count and time; the figures are printed, only counts are asserted. Run
/// alone, after the parallel tests, so that other tests' allocations do not blur the memory measurement.
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
    public async Task RunAsync_OneUserHammering_OtherUsersRunsAllCompleteWhileHammerIsRejected()
    {
        // How much a hammering user slows another user's runs is timing: RunnerLoadBenchmark measures it (goal <= 10x).
        // Here only what cannot flake: the hammering user is held at its limit, and no run of the victim is rejected.
        await using var provider = CreateProvider();
        var runner = provider.GetRequiredService<IIsolatedRunner>();
        static async Task Work(IsolationScope scope, CancellationToken ct)
        {
            scope.GetAgent<NotesAgent>().Add("step");
            await Task.Delay(1, ct); // an I/O-bound step: a model or database call
        }

        using var stop = new CancellationTokenSource();
        var rejected = 0L;
        var firstRejection = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hammer = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await runner.RunAsync(new UserExecutionContext("hammer"), Work);
                if (result.Status == RunStatus.Rejected)
                {
                    Interlocked.Increment(ref rejected);
                    firstRejection.TrySetResult();
                    await Task.Yield();
                }
            }
        })).ToArray();
        await firstRejection.Task.WaitAsync(Bound);

        for (var i = 0; i < 40; i++)
        {
            var result = await runner.RunAsync(new UserExecutionContext("victim"), Work).WaitAsync(Bound);
            Assert.Equal(RunStatus.Completed, result.Status);
        }

        await stop.CancelAsync();
        await Task.WhenAll(hammer).WaitAsync(Bound);
        Assert.True(Interlocked.Read(ref rejected) > 0);
        Assert.Equal(0, ((Isolation.Execution.IsolatedRunner)runner).ActiveUsers);
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
