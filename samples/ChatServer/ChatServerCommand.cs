using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Data.Common;
using System.Text.RegularExpressions;
using ChatServer.Simulation;
using Microsoft.Extensions.Options;

namespace ChatServer;

/// <summary>
/// The command line of the sample: without a command it runs the chat server; <c>simulate</c> runs the simulation.
/// <c>--help</c> prints the usage; an unknown command or option prints what was wrong and the usage to standard error
/// and exits with <see cref="BadUsage"/>, without starting anything.
/// </summary>
internal sealed partial class ChatServerCommand : RootCommand
{
    /// <summary>The exit code for a command line that could not be parsed.</summary>
    public const int BadUsage = 2;

    /// <summary>The exit code when the server could not start (bad configuration, database unreachable, port taken).</summary>
    public const int StartFailed = 1;

    private readonly Option<string> _urls = new("--urls")
    {
        HelpName = "URLS",
        Description = "where the server listens, e.g. http://127.0.0.1:5080 (overrides Urls in appsettings.json)",
    };

    /// <summary>Creates the command line; <paramref name="configureSimulation"/> changes the server that <c>simulate</c> starts.</summary>
    public ChatServerCommand(Action<WebApplicationBuilder>? configureSimulation = null)
        : this(configureSimulation, new Dictionary<string, string?>())
    {
    }

    private ChatServerCommand(Action<WebApplicationBuilder>? configureSimulation, IReadOnlyDictionary<string, string?> settings)
        : base("The ChatServer sample: a multi-user chat backend on Isolation. Without a command it runs the server (chat on /, dashboard on /dashboard). "
            + "Settings (docs/sample.md#configuration) can follow as --Section:Key=value, e.g. --Chat:FaultInjection=false.")
    {
        HelpName = "dotnet run --project samples/ChatServer --";
        Options.Add(_urls);

        // Settings given on the command line come last: they override appsettings.json and environment variables, for the
        // server and for the servers simulate starts, as ASP.NET Core's own command-line configuration does.
        Subcommands.Add(new SimulateCommand(settings.Count == 0 ? configureSimulation : b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            configureSimulation?.Invoke(b);
        }));
        SetAction((result, cancellationToken) => ServeAsync(result.GetValue(_urls), settings, result.InvocationConfiguration.Error, cancellationToken));
    }

    /// <summary>Parses <paramref name="args"/> and runs what they ask for, writing to <paramref name="output"/> and <paramref name="error"/>.</summary>
    /// <returns>The process exit code.</returns>
    public static Task<int> InvokeAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        InvokeAsync(args, output, error, configureSimulation: null, cancellationToken);

    internal static async Task<int> InvokeAsync(
        IReadOnlyList<string> args, TextWriter output, TextWriter error, Action<WebApplicationBuilder>? configureSimulation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var (settings, rest) = SplitSettings(args);
        var command = new ChatServerCommand(configureSimulation, settings);
        var result = command.Parse(rest);

        // The host handles Ctrl+C for the server; the simulation ends with the process, as before.
        var invocation = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
        if (result.Errors.Count == 0)
        {
            return await result.InvokeAsync(invocation, cancellationToken);
        }

        var failed = result.CommandResult.Command;
        await error.WriteLineAsync((failed == command ? "ChatServer" : failed.Name) + ": " + Explain(result));
        await error.WriteLineAsync();
        var helpFor = failed == command ? new[] { "--help" } : [failed.Name, "--help"];
        await command.Parse(helpFor).InvokeAsync(new InvocationConfiguration { Output = error }, cancellationToken);
        return BadUsage;
    }

    /// <summary>
    /// Takes the settings out of <paramref name="args"/>: <c>--Section:Key=value</c> (also <c>/Section:Key=value</c> or
    /// <c>Section:Key=value</c>), a configuration key with at least one <c>:</c>. The rest is the command line proper.
    /// </summary>
    internal static (Dictionary<string, string?> Settings, List<string> Remaining) SplitSettings(IReadOnlyList<string> args)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var rest = new List<string>();
        foreach (var arg in args)
        {
            var text = arg.StartsWith("--", StringComparison.Ordinal) ? arg[2..] : arg.StartsWith('/') ? arg[1..] : arg;
            var equals = text.IndexOf('=', StringComparison.Ordinal);
            var key = equals > 0 ? text[..equals] : string.Empty;
            if (SettingKey().IsMatch(key))
            {
                settings[key] = text[(equals + 1)..];
            }
            else
            {
                rest.Add(arg);
            }
        }

        return (settings, rest);
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_.\-]*(:[A-Za-z0-9_.\-]+)+$")]
    private static partial Regex SettingKey();

    /// <summary>One line for an exception that stopped a start: the failures of an options validation, else the type and message.</summary>
    internal static string Describe(Exception exception) =>
        Explain(exception) + ((exception as DbException ?? exception.InnerException as DbException) is Npgsql.NpgsqlException
            ? " Check ConnectionStrings:Chat: the PostgreSQL server it names must be reachable with those credentials (leave it empty for SQLite)."
            : string.Empty);

    private static string Explain(Exception exception) => exception switch
    {
        OptionsValidationException validation => string.Join(" ", validation.Failures),
        _ when exception.InnerException is { } inner && exception.Message.Contains(inner.Message, StringComparison.Ordinal) => Explain(inner),
        _ => exception.GetType().Name + ": " + exception.Message + (exception.InnerException is { } cause ? " (" + cause.Message + ")" : string.Empty),
    };

    /// <summary>
    /// The first parse error, in the words the sample has always used for the common cases. A bad option value comes first:
    /// in <c>--users --runs 5</c> the value of <c>--users</c> is <c>--runs</c>, and that is what needs fixing.
    /// </summary>
    private static string Explain(ParseResult result)
    {
        var error = result.Errors.FirstOrDefault(e => e.SymbolResult is OptionResult) ?? result.Errors[0];
        if (error.SymbolResult is OptionResult { Tokens.Count: 0, Implicit: false } missing && missing.Option.Arity.MinimumNumberOfValues > 0)
        {
            var name = missing.Option.Name;
            return $"Option {name} needs a value: {name} <{missing.Option.HelpName ?? "value"}> — {missing.Option.Description}.";
        }

        if (error.SymbolResult is not OptionResult && result.UnmatchedTokens.Count > 0)
        {
            var command = result.CommandResult.Command;
            var token = result.UnmatchedTokens[0];
            var options = command.Options.Where(o => o is not HelpOption and not VersionOption && !o.Hidden).Select(o => o.Name).ToList();
            var known = options.Count switch
            {
                0 => string.Empty,
                1 => $" The option is {options[0]}.",
                _ => $" Options are {string.Join(", ", options[..^1])} and {options[^1]}.",
            };
            var commands = command.Subcommands.Count == 0 ? string.Empty : $" Commands: {string.Join(", ", command.Subcommands.Select(c => c.Name))}.";
            const string Settings = " A setting goes as --Section:Key=value (e.g. --Isolation:Mode=Observe).";
            return token.StartsWith('-')
                ? $"Unknown option '{token}'.{known}{Settings}"
                : $"Unknown command or argument '{token}'.{commands}{known}{Settings}";
        }

        return error.Message;
    }

    private static async Task<int> ServeAsync(string? urls, IReadOnlyDictionary<string, string?> settings, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            var app = ChatServerApp.Build(ChatServerApp.CreateBuilder([], builder =>
            {
                builder.Configuration.AddInMemoryCollection(settings);
                if (!string.IsNullOrEmpty(urls))
                {
                    builder.Configuration.AddInMemoryCollection([new("Urls", urls)]);
                }
            }));
            await using (app)
            {
                // Bad settings and an unreachable database stop the server here, with their message, before the host starts
                // (whose own failure log would be a stack trace). The host creates the schema again at start: idempotent.
                app.Services.GetService<IStartupValidator>()?.Validate();
                await ChatServerApp.EnsureDatabaseAsync(app.Services, cancellationToken);
                await app.RunAsync(cancellationToken);
            }

            return 0;
        }
        catch (Exception ex) when (ex is OptionsValidationException or DbException or IOException or InvalidOperationException)
        {
            // A server that cannot start stops: no half-started host answering some requests and failing others.
            await error.WriteLineAsync("ChatServer could not start: " + Describe(ex));
            return StartFailed;
        }
    }
}
