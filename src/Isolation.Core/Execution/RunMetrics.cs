using System.Diagnostics.Metrics;

namespace Isolation.Execution;

/// <summary>The runner's instrument: <c>isolation.runs</c> by status.</summary>
internal sealed class RunMetrics
{
    private readonly Counter<long> _runs;

    public RunMetrics(Meter meter) =>
        _runs = meter.CreateCounter<long>(IsolationTelemetry.Runs, unit: "{run}", description: "Isolated runs that ended, by how they ended.");

    public void RunEnded(string status) =>
        _runs.Add(1, new KeyValuePair<string, object?>(IsolationTelemetry.RunStatusTag, status));
}
