using System.Diagnostics;

namespace ChatServer.Tests.CommandLine;

/// <summary>The sample's command line: usage on request and on a mistake, and nothing started in either case.</summary>
public sealed class ChatServerCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    public async Task InvokeAsync_Help_PrintsUsageExitCode0(string help)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await ChatServerCommand.InvokeAsync([help], output, error, Ct);

        Assert.Equal(0, exitCode);
        var text = output.ToString();
        Assert.Contains("dotnet run --project samples/ChatServer -- [command] [options]", text, StringComparison.Ordinal);
        Assert.Contains("simulate", text, StringComparison.Ordinal);
        Assert.Contains("--urls <URLS>", text, StringComparison.Ordinal);
        Assert.Empty(error.ToString());
    }

    [Theory]
    [InlineData(new[] { "serve" }, "ChatServer: Unknown command or argument 'serve'. Commands: simulate.")]
    [InlineData(new[] { "simulat" }, "ChatServer: Unknown command or argument 'simulat'. Commands: simulate.")]
    [InlineData(new[] { "--port", "80" }, "ChatServer: Unknown option '--port'.")]
    [InlineData(new[] { "--urls" }, "ChatServer: Option --urls needs a value: --urls <URLS>")]
    public async Task InvokeAsync_UnknownCommandOrOption_ExitCode2WithMessageAndUsage(string[] args, string message)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await ChatServerCommand.InvokeAsync(args, output, error, Ct);

        Assert.Equal(ChatServerCommand.BadUsage, exitCode);
        Assert.StartsWith(message, error.ToString(), StringComparison.Ordinal);
        Assert.Contains("dotnet run --project samples/ChatServer -- [command] [options]", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }

    [Fact]
    public async Task Process_Help_PrintsUsageAndExitsWithoutStartingTheServer()
    {
        var (exitCode, output, error) = await RunChatServerAsync(["--help"]);

        Assert.True(exitCode == 0, error);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.Contains("simulate", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_UnknownCommand_ExitCode2UsageOnStandardError()
    {
        var (exitCode, output, error) = await RunChatServerAsync(["serve"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("Unknown command or argument 'serve'", error, StringComparison.Ordinal);
        Assert.Contains("Usage:", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--Isolation:Mode=Observe" }, "Isolation:Mode", "Observe", new string[0])]
    [InlineData(new[] { "Chat:Auth:SigningKey=c2hvcnQ=" }, "Chat:Auth:SigningKey", "c2hvcnQ=", new string[0])]
    [InlineData(new[] { "/Isolation:Events:MaxConnectionsPerUser=2", "--urls", "http://127.0.0.1:0" }, "Isolation:Events:MaxConnectionsPerUser", "2", new[] { "--urls", "http://127.0.0.1:0" })]
    [InlineData(new[] { "simulate", "--redis", "localhost:6379,password=x", "--ConnectionStrings:Chat=Host=db;Port=5432" }, "ConnectionStrings:Chat", "Host=db;Port=5432", new[] { "simulate", "--redis", "localhost:6379,password=x" })]
    public void SplitSettings_SectionKeyEqualsValue_TakenAsASettingTheRestParsed(string[] args, string key, string value, string[] rest)
    {
        var (settings, remaining) = ChatServerCommand.SplitSettings(args);

        Assert.Equal(value, Assert.Single(settings, s => s.Key == key).Value);
        Assert.Single(settings);
        Assert.Equal(rest, remaining);
    }

    [Theory]
    [InlineData("--urls=http://127.0.0.1:0")]
    [InlineData("--users=5")]
    [InlineData("--Isolation:Mode")]
    [InlineData("http://127.0.0.1:5080")]
    public void SplitSettings_OptionsAndValues_LeftToTheCommandLine(string arg)
    {
        var (settings, remaining) = ChatServerCommand.SplitSettings([arg]);

        Assert.Empty(settings);
        Assert.Equal([arg], remaining);
    }

    [Theory]
    [InlineData("--Isolation:Mode=Bogus", "Isolation:Mode is 'Bogus', which is not a mode. Use Off, Observe or Enforce.")]
    [InlineData("--Isolation:Modee=Enforce", "Isolation:Modee is not an option of Isolation; it would be ignored. Did you mean Mode?")]
    [InlineData("--Isolation:Runner:DefaultDeadline=10", "Isolation:Runner:DefaultDeadline is '10', which is not a time span.")]
    [InlineData("--Chat:Auth:SigningKey=c2hvcnQ=", "Chat:Auth:SigningKey has 5 bytes; an HMAC-SHA256 key needs at least 32.")]
    public async Task Process_BadSettingOnTheCommandLine_ExitCode1WithOneLineAndNoStackTrace(string setting, string message)
    {
        var (exitCode, output, error) = await RunChatServerAsync([setting]);

        Assert.Equal(1, exitCode);
        Assert.StartsWith("ChatServer could not start: " + message, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_PostgreSqlUnreachable_ExitCode1WithTheReasonWhatToCheckAndNoStackTrace()
    {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        var (exitCode, output, error) = await RunChatServerAsync(
            [], new Dictionary<string, string> { ["ConnectionStrings__Chat"] = "Host=127.0.0.1;Port=1;Username=chat;Password=chat;Database=chat;Timeout=3" });

        Assert.Equal(1, exitCode);
        Assert.StartsWith("ChatServer could not start: NpgsqlException: Failed to connect to 127.0.0.1:1", error, StringComparison.Ordinal);
        Assert.Contains("Check ConnectionStrings:Chat", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeAsync_UnknownOption_SaysHowToGiveASetting()
    {
        using var error = new StringWriter();

        var exitCode = await ChatServerCommand.InvokeAsync(["--Isolation-Mode", "Observe"], TextWriter.Null, error, Ct);

        Assert.Equal(ChatServerCommand.BadUsage, exitCode);
        Assert.StartsWith("ChatServer: Unknown option '--Isolation-Mode'. The option is --urls. A setting goes as --Section:Key=value (e.g. --Isolation:Mode=Observe).", error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Runs the built sample (ChatServer.dll beside the tests) as its own process, as <c>dotnet run</c> would.</summary>
    internal static async Task<(int ExitCode, string Output, string Error)> RunChatServerAsync(
        IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ChatServer.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Never the developer's port: a server that starts by mistake must not collide with one already running.
        start.Environment["URLS"] = "http://127.0.0.1:0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"ChatServer {string.Join(' ', args)} did not exit within 60 s: it started instead of stopping.");
        }

        return (process.ExitCode, await output, await error);
    }
}
