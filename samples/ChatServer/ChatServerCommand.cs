using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Data.Common;
using ChatServer.Simulation;
using Microsoft.Extensions.Options;

namespace ChatServer;

/// <summary>
/// The command line of the sample: without a command it runs the chat server; <c>simulate</c> runs the simulation.
/// <c>--help</c> prints the usage; an unknown command or option prints what was wrong and the usage to standard error
/// and exits with <see cref="BadUsage"/>, without starting anything.
/// </summary>
internal sealed class ChatServerCommand : RootCommand
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
        : base("The ChatServer sample: a multi-user chat backend on Isolation. Without a command it runs the server (chat on /, dashboard on /dashboard).")
    {
        HelpName = "dotnet run --project samples/ChatServer --";
        Options.Add(_urls);
        Subcommands.Add(new SimulateCommand(configureSimulation));
        SetAction((result, cancellationToken) => ServeAsync(result.GetValue(_urls), result.InvocationConfiguration.Error, cancellationToken));
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
        var command = new ChatServerCommand(configureSimulation);
        var result = command.Parse(args);

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

    /// <summary>One line for an exception that stopped a start: the failures of an options validation, else the type and message.</summary>
    internal static string Describe(Exception exception) => exception switch
    {
        OptionsValidationException validation => string.Join(" ", validation.Failures),
        _ when exception.InnerException is { } inner && exception.Message.Contains(inner.Message, StringComparison.Ordinal) => Describe(inner),
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
            return token.StartsWith('-')
                ? $"Unknown option '{token}'.{known}"
                : $"Unknown command or argument '{token}'.{commands}{known}";
        }

        return error.Message;
    }

    private static async Task<int> ServeAsync(string? urls, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            var app = ChatServerApp.Build(ChatServerApp.CreateBuilder([], builder =>
            {
                if (!string.IsNullOrEmpty(urls))
                {
                    builder.Configuration.AddInMemoryCollection([new("Urls", urls)]);
                }
            }));
            await using (app)
            {
                // Bad settings stop the server here, with their message, before the host starts (and logs a stack trace).
                app.Services.GetService<IStartupValidator>()?.Validate();
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
