using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Isolation.Analyzers.Tests.Infrastructure;

/// <summary>Runs the dotnet CLI as a child process with a clean MSBuild environment and a hard time limit.</summary>
internal static partial class DotNetCli
{
    // A guard against a hung build, not a speed check: a build of LegacyChat took over 3 minutes at a load average of 36.
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);

    /// <summary>The configuration this test assembly was built in; the packed and built projects use the same.</summary>
    public static string Configuration { get; } =
        typeof(DotNetCli).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, params string[] arguments)
    {
        var start = StartInfo(workingDirectory, arguments);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start 'dotnet'.");
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'dotnet {string.Join(' ', arguments)}' in '{workingDirectory}' did not finish within {Limit.TotalMinutes} minutes.");
        }

        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }

    /// <summary>A <c>dotnet</c> child process with redirected output and the test host's MSBuild variables removed.</summary>
    public static ProcessStartInfo StartInfo(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host runs inside 'dotnet test': its MSBuild variables would point the child build at the wrong SDK state.
        foreach (var key in start.Environment.Keys.ToArray())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.Equals("DOTNET_HOST_PATH", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(key);
            }
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        return start;
    }

    /// <summary>The distinct ISO diagnostics in build output, as <c>file:line:id</c> (file name only).</summary>
    public static SortedSet<string> IsolationDiagnostics(string buildOutput)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match match in DiagnosticLine().Matches(buildOutput))
        {
            found.Add($"{Path.GetFileName(match.Groups["file"].Value)}:{match.Groups["line"].Value}:{match.Groups["id"].Value}:{match.Groups["severity"].Value}");
        }

        return found;
    }

    /// <summary>The diagnostics a source file declares with <c>// [ISOnnn error]</c> markers at the end of the offending line.</summary>
    public static SortedSet<string> ExpectedDiagnostics(string fileName, string source)
    {
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        var lines = source.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            foreach (Match match in Marker().Matches(lines[i]))
            {
                expected.Add($"{fileName}:{i + 1}:{match.Groups["id"].Value}:{match.Groups["severity"].Value}");
            }
        }

        return expected;
    }

    [GeneratedRegex(@"(?<file>[^\s:(]+\.cs)\((?<line>\d+),\d+\): (?<severity>error|warning) (?<id>ISO\d{3})")]
    private static partial Regex DiagnosticLine();

    [GeneratedRegex(@"\[(?<id>ISO\d{3}) (?<severity>error|warning)\]")]
    private static partial Regex Marker();
}
