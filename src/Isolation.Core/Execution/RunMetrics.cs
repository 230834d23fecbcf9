using System.Diagnostics.Metrics;

namespace Isolation.Execution;

/// <summary>The runner's instrument: <c>isolation.runs</c> by status.</summary>
internal sealed class RunMetrics
{
    private readonly Counter<long> _runs;

    public RunMetrics(Meter meter, Func<int> abandonedRuns)
    {
        _runs = meter.CreateCounter<long>(IsolationTelemetry.Runs, unit: "{run}", description: "Isolated runs that ended, by how they ended.");
        meter.CreateObservableGauge(
            IsolationTelemetry.RunsAbandoned,
            abandonedRuns,
            unit: "{run}",
            description: "Runs whose work was still running when the runner stopped waiting for it, until the work returns or is given up.");
    }

    public void RunEnded(string status) =>
        _runs.Add(1, new KeyValuePair<string, object?>(IsolationTelemetry.RunStatusTag, status));
}
