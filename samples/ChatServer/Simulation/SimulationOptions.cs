using System.Globalization;

namespace ChatServer.Simulation;

/// <summary>The options of <c>simulate</c>, parsed and validated from the command line.</summary>
public sealed record SimulationOptions
{
    public const int DefaultUsers = 100;
    public const int RunsPerUserByDefault = 10;
    public const double DefaultFailureRate = 0.1;
    public const int DefaultSeed = 1;
    public const int MaxUsers = 2000;
    public const int MaxRuns = 100_000;
    public const int MaxNodes = 5;

    public const string Usage = """
        Usage: dotnet run --project samples/ChatServer -- simulate [options]

        Starts the chat server on a free loopback port, drives simulated users over real WebSockets (or SignalR) with
        injected failures, and prints an isolation report. Exit code 0 when isolation held, 1 when it did not (or could
        not be checked), 2 for bad options.

        Options:
          --users N          simulated users, 1 to 2000 (default 100)
          --runs N           chat runs in total, spread over the users, 1 to 100000 (default 10 per user)
          --failure-rate R   share of runs given an injected failure, 0 to 1 (default 0.1)
          --seed S           seed of the plan (which run fails how), any integer (default 1)
          --transport T      websocket (/ws) or signalr (/hub/chat) (default websocket)
          --nodes N          server nodes in this process sharing one Redis, 1 to 5 (default 1)
          --redis CONFIG     StackExchange.Redis configuration for --nodes above 1 (default: $ISOLATION_TEST_REDIS)
          -h, --help         show this help
        """;

    public int Users { get; init; } = DefaultUsers;

    public int Runs { get; init; } = DefaultUsers * RunsPerUserByDefault;

    public double FailureRate { get; init; } = DefaultFailureRate;

    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Gets how the simulated users connect.</summary>
    public SimulationTransport Transport { get; init; } = SimulationTransport.WebSocket;

    /// <summary>Gets how many server nodes run (more than one needs <see cref="Redis"/>).</summary>
    public int Nodes { get; init; } = 1;

    /// <summary>Gets the Redis configuration the nodes share; <see langword="null"/> means <c>ISOLATION_TEST_REDIS</c>, if set.</summary>
    public string? Redis { get; init; }

    /// <summary>Parses <paramref name="args"/> (the words after <c>simulate</c>).</summary>
    /// <returns>The options, or <see langword="null"/> with <paramref name="error"/> set; <paramref name="help"/> when help was asked for.</returns>
    public static SimulationOptions? Parse(IReadOnlyList<string> args, out string? error, out bool help)
    {
        ArgumentNullException.ThrowIfNull(args);
        error = null;
        help = false;
        int? users = null;
        int? runs = null;
        double? failureRate = null;
        int? seed = null;
        var transport = SimulationTransport.WebSocket;
        var nodes = 1;
        string? redis = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                help = true;
                return null;
            }

            string name;
            string? value;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                value = arg[(equals + 1)..];
            }
            else
            {
                name = arg;
                value = i + 1 < args.Count ? args[++i] : null;
            }

            if (name is not ("--users" or "--runs" or "--failure-rate" or "--seed" or "--transport" or "--nodes" or "--redis"))
            {
                error = $"Unknown option '{arg}'. Options are --users, --runs, --failure-rate, --seed, --transport, --nodes and --redis.";
                return null;
            }

            if (string.IsNullOrEmpty(value))
            {
                error = $"Option {name} needs a value, e.g. {name} {name switch { "--failure-rate" => "0.1", "--transport" => "signalr", "--nodes" => "3", "--redis" => "127.0.0.1:6379", _ => "100" }}.";
                return null;
            }

            switch (name)
            {
                case "--users":
                    if (!TryInt(value, 1, MaxUsers, out var u))
                    {
                        error = $"--users must be a whole number from 1 to {MaxUsers}; got '{value}'.";
                        return null;
                    }

                    users = u;
                    break;
                case "--runs":
                    if (!TryInt(value, 1, MaxRuns, out var r))
                    {
                        error = $"--runs must be a whole number from 1 to {MaxRuns}; got '{value}'.";
                        return null;
                    }

                    runs = r;
                    break;
                case "--failure-rate":
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) || double.IsNaN(f) || f < 0 || f > 1)
                    {
                        error = $"--failure-rate must be a number from 0 to 1 (a share, e.g. 0.1 for 10%); got '{value}'.";
                        return null;
                    }

                    failureRate = f;
                    break;
                case "--transport":
                    if (!TryTransport(value, out transport))
                    {
                        error = $"--transport must be websocket or signalr; got '{value}'.";
                        return null;
                    }

                    break;
                case "--nodes":
                    if (!TryInt(value, 1, MaxNodes, out nodes))
                    {
                        error = $"--nodes must be a whole number from 1 to {MaxNodes}; got '{value}'.";
                        return null;
                    }

                    break;
                case "--redis":
                    redis = value;
                    break;
                default:
                    if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s))
                    {
                        error = $"--seed must be a whole number from {int.MinValue} to {int.MaxValue}; got '{value}'.";
                        return null;
                    }

                    seed = s;
                    break;
            }
        }

        var userCount = users ?? DefaultUsers;
        return new SimulationOptions
        {
            Users = userCount,
            Runs = runs ?? Math.Min(MaxRuns, userCount * RunsPerUserByDefault),
            FailureRate = failureRate ?? DefaultFailureRate,
            Seed = seed ?? DefaultSeed,
            Transport = transport,
            Nodes = nodes,
            Redis = redis,
        };
    }

    private static bool TryTransport(string value, out SimulationTransport transport)
    {
        transport = value.ToLowerInvariant() switch
        {
            "websocket" => SimulationTransport.WebSocket,
            "signalr" => SimulationTransport.SignalR,
            _ => (SimulationTransport)(-1),
        };
        return Enum.IsDefined(transport);
    }

    private static bool TryInt(string value, int min, int max, out int result) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result) && result >= min && result <= max;
}

/// <summary>How simulated users connect to the chat server.</summary>
public enum SimulationTransport
{
    /// <summary>The sample's WebSocket protocol on <c>/ws</c>.</summary>
    WebSocket,

    /// <summary>SignalR on <c>/hub/chat</c>, through <c>Microsoft.AspNetCore.SignalR.Client</c>.</summary>
    SignalR,
}
