using BenchmarkDotNet.Attributes;
using Isolation.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// The sampling decision alone, the only work <c>Sampled</c> adds to an untracked scope: <c>ShouldTrackScope()</c> of
/// the runtime's leak tracker with <c>LeakDetection = Disabled</c> (the baseline) against <c>Sampled</c> at the default
/// interval (128). A whole scope costs 150–300 ns and varies by tens of ns between runs, so the 2 ns goal can only be
/// judged here, 1,024 decisions per invocation. <see cref="SampledBefore"/> is the decision as it was before issue 12
/// (a per-thread counter that started at 0, so a thread making fewer scopes than the interval never sampled one), for
/// the before/after comparison.
/// </summary>
public class LeakSamplingDecisionBenchmark
{
    private const int Decisions = 1024;

    [ThreadStatic]
    private static int t_beforeCounter;

    private ServiceProvider _disabledProvider = null!;
    private ServiceProvider _sampledProvider = null!;
    private LeakTracker _disabled = null!;
    private LeakTracker _sampled = null!;
    private int _interval;

    [GlobalSetup]
    public void Setup()
    {
        _disabledProvider = Build(LeakDetectionLevel.Disabled);
        _sampledProvider = Build(LeakDetectionLevel.Sampled);
        _disabled = _disabledProvider.GetRequiredService<IsolationMonitor>().Leaks;
        _sampled = _sampledProvider.GetRequiredService<IsolationMonitor>().Leaks;
        _interval = _sampledProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<IsolationOptions>>().Value.LeakSamplingInterval;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _disabledProvider.Dispose();
        _sampledProvider.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Decisions)]
    public int DecideDisabled()
    {
        var tracker = _disabled;
        var tracked = 0;
        for (var i = 0; i < Decisions; i++)
        {
            tracked += tracker.ShouldTrackScope() ? 1 : 0;
        }

        return tracked;
    }

    [Benchmark(OperationsPerInvoke = Decisions)]
    public int DecideSampled()
    {
        var tracker = _sampled;
        var tracked = 0;
        for (var i = 0; i < Decisions; i++)
        {
            tracked += tracker.ShouldTrackScope() ? 1 : 0;
        }

        return tracked;
    }

    /// <summary>The decision before issue 12: <c>if (++t_counter &lt; interval) return false; t_counter = 0; return true;</c>.</summary>
    [Benchmark(OperationsPerInvoke = Decisions)]
    public int SampledBefore()
    {
        var tracked = 0;
        for (var i = 0; i < Decisions; i++)
        {
            tracked += DecideBefore(_interval) ? 1 : 0;
        }

        return tracked;
    }

    private static bool DecideBefore(int interval)
    {
        if (++t_beforeCounter < interval)
        {
            return false;
        }

        t_beforeCounter = 0;
        return true;
    }

    private static ServiceProvider Build(LeakDetectionLevel level) =>
        new ServiceCollection().AddIsolation(o =>
        {
            o.Mode = IsolationMode.Enforce;
            o.LeakDetection = level;
        }).BuildServiceProvider();
}
