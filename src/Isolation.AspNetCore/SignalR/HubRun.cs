namespace Isolation.AspNetCore.SignalR;

/// <summary>
/// A run started from a hub method by <see cref="IsolatedRunnerHubExtensions.StartRun"/>: its id (every event of the run
/// carries it as <see cref="EventEnvelope.RunId"/>) and its completion.
/// </summary>
public sealed class HubRun
{
    internal HubRun(string runId, Task<RunResult> completion)
    {
        RunId = runId;
        Completion = completion;
    }

    /// <summary>Gets the run's id; return it from the hub method so the client can match the run's events.</summary>
    public string RunId { get; }

    /// <summary>Gets a task that completes with the run's result, after its terminal event was emitted. It never faults.</summary>
    public Task<RunResult> Completion { get; }

    /// <inheritdoc />
    public override string ToString() => "HubRun " + RunId;
}
