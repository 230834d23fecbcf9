using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// One user's run (an agent and a 1 ms I/O-bound step, as a model or database call) alone, and while another user
/// hammers the runner from 16 loops far over its limit of 4 (most of its runs rejected). Goal (moved here from the unit
/// test, where a timed ratio flaked): the victim's run at most 10x slower under the hammering than alone.
/// </summary>
public class RunnerLoadBenchmark
{
    private readonly CancellationTokenSource _stop = new();
    private ServiceProvider _provider = null!;
    private IIsolatedRunner _runner = null!;
    private Task[] _hammer = [];
    private long _rejected;

    [Params(false, true)]
    public bool Hammering { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddIsolation()
            .AddIsolatedAgent<FreshAgent>()
            .BuildServiceProvider();
        _runner = _provider.GetRequiredService<IIsolatedRunner>();
        if (Hammering)
        {
            _hammer = Enumerable.Range(0, 16).Select(_ => Task.Run(HammerAsync)).ToArray();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop.Cancel();
        Task.WhenAll(_hammer).GetAwaiter().GetResult();
        if (Hammering && Interlocked.Read(ref _rejected) == 0)
        {
            throw new InvalidOperationException("The hammering user was never over its limit: the benchmark measured nothing.");
        }

        _stop.Dispose();
        _provider.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public async Task<RunStatus> VictimRun()
    {
        var result = await _runner.RunAsync(new UserExecutionContext("victim"), WorkAsync);
        return result.Status == RunStatus.Completed
            ? result.Status
            : throw new InvalidOperationException("The victim's run did not complete: " + result.Status, result.Exception);
    }

    private static async Task WorkAsync(IsolationScope scope, CancellationToken cancellationToken)
    {
        scope.GetAgent<FreshAgent>().Add("step");
        await Task.Delay(1, cancellationToken);
    }

    private async Task HammerAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var result = await _runner.RunAsync(new UserExecutionContext("hammer"), WorkAsync);
            if (result.Status == RunStatus.Rejected)
            {
                Interlocked.Increment(ref _rejected);
                await Task.Yield();
            }
        }
    }
}
