using System.CommandLine;
using System.CommandLine.Parsing;
using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace ChatServer.Simulation;

/// <summary>
/// The <c>simulate</c> command: its options, and the action that runs the simulation, prints the report and turns the
/// verdict into an exit code. Adding an option is one <see cref="Add{T}"/> line in the constructor (plus the property it
/// sets on <see cref="SimulationOptions"/>): help, validation and binding follow from it.
/// </summary>
internal sealed class SimulateCommand : Command
{
    public const int Held = 0;
    public const int Broken = 1;
    public const int BadUsage = ChatServerCommand.BadUsage;

    private readonly List<Func<ParseResult, SimulationOptions, SimulationOptions>> _binders = [];

    /// <summary>Creates the command; <paramref name="configure"/> changes the simulated server (tests use it to plant a bug).</summary>
    public SimulateCommand(Action<WebApplicationBuilder>? configure = null)
        : base("simulate", """
            Starts the chat server on a free loopback port, drives simulated users over real WebSockets (or SignalR)
            with injected failures, and prints an isolation report. Exit code 0 when isolation held, 1 when it did not (or could not be
            checked: the reason goes to standard error), 2 for bad options.
            """)
    {
        // Order matters only where a default depends on another option: --runs defaults to ten per user.
        var users = Define("--users", "N", $"simulated users, 1 to {SimulationOptions.MaxUsers}", $"a whole number from 1 to {SimulationOptions.MaxUsers}", WholeNumber(1, SimulationOptions.MaxUsers), SimulationOptions.DefaultUsers);
        Add(users, (o, v) => o with { Users = v });
        Add(
            Define("--runs", "N", $"chat runs in total, spread over the users, 1 to {SimulationOptions.MaxRuns} (default {SimulationOptions.RunsPerUserByDefault} per user)", $"a whole number from 1 to {SimulationOptions.MaxRuns}", Optional(WholeNumber(1, SimulationOptions.MaxRuns))),
            (o, v) => o with { Runs = v ?? SimulationOptions.DefaultRunsFor(o.Users) });
        Add(
            Define("--failure-rate", "R", "share of runs given an injected failure, 0 to 1", "a number from 0 to 1 (a share, e.g. 0.1 for 10%)", Share, SimulationOptions.DefaultFailureRate),
            (o, v) => o with { FailureRate = v });
        Add(
            Define("--seed", "S", "seed of the plan (which run fails how, who attacks whom), any integer", $"a whole number from {int.MinValue} to {int.MaxValue}", AnyInteger, SimulationOptions.DefaultSeed),
            (o, v) => o with { Seed = v });
        var attackers = Define(
            "--attackers",
            "A",
            $"users who also send another user's conversation id (load, continue): a number of users, or a share of them with a decimal point, e.g. 0.05; chosen by the seed (default {SimulationOptions.DefaultAttackers}, at most every user; 0 turns the attack off)",
            "a number of users or a share of them from 0 to 1 with a decimal point (e.g. 0.05)",
            Optional<AttackerCount>(AttackerCount.TryParse));
        Add(attackers, (o, v) => o with { Attackers = v?.For(o.Users) ?? SimulationOptions.DefaultAttackersFor(o.Users) });

        // Checked against --users, once both are parsed.
        Validators.Add(result =>
        {
            AttackerCount? requested;
            int userCount;
            try
            {
                requested = result.GetValue(attackers);
                userCount = result.GetValue(users);
            }
            catch (InvalidOperationException)
            {
                // A value that did not parse: its own error is already reported (GetValue throws it).
                return;
            }

            if (requested?.Check(userCount) is { } problem)
            {
                result.AddError(problem);
            }
        });

        // Transport and nodes (issues 15 and 16).
        Add(
            Define("--transport", "T", "websocket (/ws) or signalr (/hub/chat)", "websocket or signalr", Transport, SimulationTransport.WebSocket),
            (o, v) => o with { Transport = v });
        Add(
            Define("--nodes", "N", $"server nodes in this process sharing one Redis, 1 to {SimulationOptions.MaxNodes}", $"a whole number from 1 to {SimulationOptions.MaxNodes}", WholeNumber(1, SimulationOptions.MaxNodes), 1),
            (o, v) => o with { Nodes = v });
        Add(
            Define<string?>("--redis", "CONFIG", $"StackExchange.Redis configuration the nodes share (default: ${ChatSimulation.RedisVariable})", "a StackExchange.Redis configuration string", NonEmpty),
            (o, v) => o with { Redis = v });

        SetAction((result, cancellationToken) => RunAsync(
            Bind(result), result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, configure, cancellationToken));
    }

    /// <summary>Turns a text into a value; <see langword="false"/> when the text is not one.</summary>
    private delegate bool TryParse<T>(string text, out T value);

    /// <summary>Runs <c>simulate</c> with <paramref name="args"/> (the words after <c>simulate</c>).</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(args, output, error, configure: null, cancellationToken);

    /// <summary>Runs <c>simulate</c>; <paramref name="configure"/> changes the simulated server (tests use it to plant a bug).</summary>
    internal static Task<int> RunAsync(
        IReadOnlyList<string> args, TextWriter output, TextWriter error, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        return ChatServerCommand.InvokeAsync(["simulate", .. args], output, error, configure, cancellationToken);
    }

    /// <summary>The options a parse of this command gave: every option's value or default.</summary>
    public SimulationOptions Bind(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return _binders.Aggregate(new SimulationOptions(), (options, bind) => bind(result, options));
    }

    private static async Task<int> RunAsync(
        SimulationOptions options, TextWriter output, TextWriter error, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
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
        catch (Exception ex) when (ex is IOException or InvalidOperationException or HttpRequestException or System.Net.WebSockets.WebSocketException or TimeoutException or DbException or OptionsValidationException)
        {
            // Isolation could not be checked, so it is not reported as held.
            await error.WriteLineAsync($"simulate: the simulation could not run: {ChatServerCommand.Describe(ex)}");
            return Broken;
        }

        report.Write(output);
        return report.IsolationHeld ? Held : Broken;
    }

    private void Add<T>(Option<T> option, Func<SimulationOptions, T, SimulationOptions> apply)
    {
        Options.Add(option);
        _binders.Add((result, options) => apply(options, result.GetValue(option)!));
    }

    /// <summary>An option with one value, checked by <paramref name="parse"/>; a bad value reads "<c>--name must be rule; got 'text'.</c>".</summary>
    private static Option<T> Define<T>(string name, string helpName, string description, string rule, TryParse<T> parse, T? defaultValue = default)
    {
        var option = new Option<T>(name)
        {
            HelpName = helpName,
            Description = description,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                if (parse(text, out var value))
                {
                    return value;
                }

                result.AddError($"{name} must be {rule}; got '{text}'.");
                return default!;
            },
        };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }

        return option;
    }

    private static TryParse<int> WholeNumber(int min, int max) => (string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    private static TryParse<T?> Optional<T>(TryParse<T> parse)
        where T : struct => (string text, out T? value) =>
    {
        var parsed = parse(text, out var number);
        value = parsed ? number : null;
        return parsed;
    };

    private static bool Share(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value is >= 0 and <= 1;

    private static bool Transport(string text, out SimulationTransport value)
    {
        value = text.ToLowerInvariant() switch { "signalr" => SimulationTransport.SignalR, _ => SimulationTransport.WebSocket };
        return text.Equals("websocket", StringComparison.OrdinalIgnoreCase) || text.Equals("signalr", StringComparison.OrdinalIgnoreCase);
    }

    private static bool NonEmpty(string text, out string? value)
    {
        value = text;
        return !string.IsNullOrWhiteSpace(text);
    }

    private static bool AnyInteger(string text, out int value) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
}
