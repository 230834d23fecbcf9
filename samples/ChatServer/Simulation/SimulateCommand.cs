namespace ChatServer.Simulation;

/// <summary>The <c>simulate</c> command: parse, run, print, and turn the verdict into an exit code.</summary>
public static class SimulateCommand
{
    public const int Held = 0;
    public const int Broken = 1;
    public const int BadUsage = 2;

    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(args, output, error, configure: null, cancellationToken);

    /// <summary>Runs the command; <paramref name="configure"/> changes the simulated server (tests use it to plant a bug).</summary>
    internal static async Task<int> RunAsync(
        IReadOnlyList<string> args, TextWriter output, TextWriter error, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var options = SimulationOptions.Parse(args, out var problem, out var help);
        if (help)
        {
            await output.WriteLineAsync(SimulationOptions.Usage);
            return Held;
        }

        if (options is null)
        {
            await error.WriteLineAsync("simulate: " + problem);
            await error.WriteLineAsync();
            await error.WriteLineAsync(SimulationOptions.Usage);
            return BadUsage;
        }

        SimulationReport report;
        try
        {
            report = await ChatSimulation.RunAsync(options, output, configure, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or HttpRequestException or System.Net.WebSockets.WebSocketException or TimeoutException)
        {
            // Isolation could not be checked, so it is not reported as held.
            await error.WriteLineAsync($"simulate: the simulation could not run: {ex.GetType().Name}: {ex.Message}");
            return Broken;
        }

        report.Write(output);
        return report.IsolationHeld ? Held : Broken;
    }
}
