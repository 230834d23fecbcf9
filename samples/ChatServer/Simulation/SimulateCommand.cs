namespace ChatServer.Simulation;

/// <summary>The <c>simulate</c> command: parse, run, print, and turn the verdict into an exit code.</summary>
public static class SimulateCommand
{
    public const int Held = 0;
    public const int Broken = 1;
    public const int BadUsage = 2;

    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(args, output, error, configure: null, cancellationToken);

    /// <summary>Runs the command.</summary>
    /// <param name="args">The words after <c>simulate</c>.</param>
    /// <param name="output">Progress and the report.</param>
    /// <param name="error">What was wrong, when something was.</param>
    /// <param name="configure">Changes the simulated servers (tests use it to plant a bug).</param>
    /// <param name="cancellationToken">Stops the simulation.</param>
    /// <param name="environment">Reads an environment variable (<c>ISOLATION_TEST_REDIS</c>); <see langword="null"/> for the process's.</param>
    internal static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        TextWriter output,
        TextWriter error,
        Action<WebApplicationBuilder>? configure,
        CancellationToken cancellationToken,
        Func<string, string?>? environment = null)
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

        // Resolved once here (empty: none), so the simulation does not read the environment again.
        options = options with { Redis = options.Redis ?? (environment ?? Environment.GetEnvironmentVariable)(ChatSimulation.RedisVariable) ?? string.Empty };
        if (options.Nodes > 1 && ChatSimulation.RedisFor(options) is null)
        {
            // Nothing could be checked without the Redis the nodes share: not held, so 1, with what to do about it.
            await error.WriteLineAsync("simulate: " + ChatSimulation.NoRedisMessage(options.Nodes));
            return Broken;
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
