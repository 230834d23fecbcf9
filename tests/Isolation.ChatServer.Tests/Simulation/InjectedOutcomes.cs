using ChatServer.Simulation;

namespace ChatServer.Tests.Simulation;

/// <summary>Assertions on how the runs of one injected failure ended.</summary>
internal static class InjectedOutcomes
{
    /// <summary>
    /// Runs whose tool throws (<paramref name="failure"/>) fail, unless a run never reached its tool within the 2 s deadline: on a
    /// saturated machine (the whole suite in parallel on 2 cores) that is a timeout, which still ends only that run. At least one fails.
    /// </summary>
    public static void AssertFailedOrOverloaded(SimulationReport report, InjectedFailure failure)
    {
        var outcome = report.Outcomes[failure];
        Assert.All(outcome.Keys, status => Assert.Contains(status, new[] { "failed", "timed_out" }));
        Assert.True(outcome.GetValueOrDefault("failed") > 0, $"no {failure} run failed: {string.Join(", ", outcome)}");
    }
}
