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
    public const int DefaultAttackers = 3;

    public const string Usage = """
        Usage: dotnet run --project samples/ChatServer -- simulate [options]

        Starts the chat server on a free loopback port, drives simulated users over real WebSockets with injected
        failures, and prints an isolation report. Exit code 0 when isolation held, 1 when it did not (or could not be
        checked), 2 for bad options.

        Options:
          --users N          simulated users, 1 to 2000 (default 100)
          --runs N           chat runs in total, spread over the users, 1 to 100000 (default 10 per user)
          --failure-rate R   share of runs given an injected failure, 0 to 1 (default 0.1)
          --seed S           seed of the plan (which run fails how), any integer (default 1)
          --attackers A      users who also send another user's conversation id, a number of users
                             (e.g. 3) or a share of them with a decimal point (e.g. 0.05); chosen by the
                             seed (default 3, or every user when there are fewer; 0 turns the attack off)
          -h, --help         show this help
        """;

    public int Users { get; init; } = DefaultUsers;

    public int Runs { get; init; } = DefaultUsers * RunsPerUserByDefault;

    public double FailureRate { get; init; } = DefaultFailureRate;

    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Gets how many users also try another user's conversation id (load it, then continue it); at most <see cref="Users"/>, 0 with one user.</summary>
    public int Attackers { get; init; } = DefaultAttackers;

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
        string? attackers = null;
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

            if (name is not ("--users" or "--runs" or "--failure-rate" or "--seed" or "--attackers"))
            {
                error = $"Unknown option '{arg}'. Options are --users, --runs, --failure-rate, --seed and --attackers.";
                return null;
            }

            if (string.IsNullOrEmpty(value))
            {
                error = $"Option {name} needs a value, e.g. {name} {name switch { "--failure-rate" => "0.1", "--attackers" => "3", _ => "100" }}.";
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
                case "--attackers":
                    attackers = value;
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
        var attackerCount = userCount >= 2 ? Math.Min(DefaultAttackers, userCount) : 0;
        if (attackers is not null && !TryAttackers(attackers, userCount, out attackerCount, out error))
        {
            return null;
        }

        return new SimulationOptions
        {
            Users = userCount,
            Attackers = attackerCount,
            Runs = runs ?? Math.Min(MaxRuns, userCount * RunsPerUserByDefault),
            FailureRate = failureRate ?? DefaultFailureRate,
            Seed = seed ?? DefaultSeed,
        };
    }

    /// <summary>A number of users (<c>3</c>) or, with a decimal point, a share of them (<c>0.05</c>, rounded to whole users).</summary>
    private static bool TryAttackers(string value, int users, out int count, out string? error)
    {
        error = null;
        count = 0;
        if (value.Contains('.', StringComparison.Ordinal))
        {
            if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var share) || share > 1)
            {
                error = $"--attackers must be a number of users from 0 to {users} or a share of them from 0 to 1 with a decimal point (e.g. 0.05); got '{value}'.";
                return false;
            }

            count = (int)Math.Round(share * users, MidpointRounding.AwayFromZero);
        }
        else if (!TryInt(value, 0, users, out count))
        {
            error = $"--attackers must be a number of users from 0 to {users} or a share of them from 0 to 1 with a decimal point (e.g. 0.05); got '{value}'.";
            return false;
        }

        if (count > 0 && users < 2)
        {
            error = $"--attackers {value} needs at least 2 users: an attacker sends another user's conversation id. Use --attackers 0 or more --users.";
            return false;
        }

        return true;
    }

    private static bool TryInt(string value, int min, int max, out int result) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result) && result >= min && result <= max;
}
