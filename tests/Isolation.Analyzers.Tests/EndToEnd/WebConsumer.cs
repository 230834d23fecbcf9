using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.EndToEnd;

/// <summary>
/// A fresh <c>dotnet new web</c> project that references the packed <c>Isolation.Core</c> the way the README says: its
/// <c>nuget.config</c> adds the feed folder to the machine's own sources (inherited, not cleared), and packages already
/// on the machine come from its package folder, so nothing else is downloaded.
/// </summary>
internal sealed partial class WebConsumer : IDisposable
{
    private WebConsumer(string root, string directory)
    {
        Root = root;
        Directory = directory;
    }

    public string Root { get; }

    /// <summary>Gets the project folder (project name <c>Consumer</c>).</summary>
    public string Directory { get; }

    public static async Task<WebConsumer> CreateAsync(PackedFeed feed, params (string Id, string Version)[] otherPackages)
    {
        var root = TempFolders.Create("isolation-consumer");
        var consumer = new WebConsumer(root, Path.Combine(root, "Consumer"));
        try
        {
            // Stop MSBuild from walking up into any Directory.Build.* above the temp folder.
            File.WriteAllText(Path.Combine(root, "Directory.Build.props"), "<Project />");
            File.WriteAllText(Path.Combine(root, "Directory.Build.targets"), "<Project />");
            var machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            File.WriteAllText(Path.Combine(root, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config>
                    <add key="globalPackagesFolder" value="{Path.Combine(root, "packages")}" />
                  </config>
                  <packageSources>
                    <add key="isolation-local" value="{feed.Folder}" />
                  </packageSources>
                  <fallbackPackageFolders>
                    <add key="machine" value="{machinePackages}" />
                  </fallbackPackageFolders>
                </configuration>
                """);

            await consumer.RunCheckedAsync(root, "new", "web", "--name", "Consumer", "--output", consumer.Directory, "--framework", "net10.0", "--no-restore");
            await consumer.RunCheckedAsync(consumer.Directory, "add", "package", "Isolation.Core", "--version", feed.Version, "--no-restore");
            foreach (var (id, version) in otherPackages)
            {
                await consumer.RunCheckedAsync(consumer.Directory, "add", "package", id, "--version", version, "--no-restore");
            }

            return consumer;
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
    }

    /// <summary>The version of a package in the repository's Directory.Packages.props (what the machine has restored).</summary>
    public static string CentralVersion(string id)
    {
        var props = XDocument.Load(Path.Combine(Repository.Root, "Directory.Packages.props"));
        return props.Descendants("PackageVersion").First(e => (string?)e.Attribute("Include") == id).Attribute("Version")!.Value;
    }

    public void Write(string fileName, string content) => File.WriteAllText(Path.Combine(Directory, fileName), content);

    public string Read(string fileName) => File.ReadAllText(Path.Combine(Directory, fileName));

    public Task<(int ExitCode, string Output)> RunAsync(params string[] arguments) => DotNetCli.RunAsync(Directory, arguments);

    public Task<(int ExitCode, string Output)> BuildAsync()
        => DotNetCli.RunAsync(Directory, "build", "-c", "Debug", "-nr:false", "-p:UseSharedCompilation=false");

    /// <summary>Starts the built app on a free loopback port and returns it once Kestrel says where it listens.</summary>
    public async Task<RunningApp> StartAsync(CancellationToken cancellationToken)
    {
        var start = DotNetCli.StartInfo(Directory, Path.Combine("bin", "Debug", "net10.0", "Consumer.dll"), "--urls", "http://127.0.0.1:0");
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the consumer.");
        var app = new RunningApp(process);
        try
        {
            app.Address = await app.WaitForAddressAsync(cancellationToken);
            return app;
        }
        catch
        {
            app.Dispose();
            throw;
        }
    }

    public void Dispose() => TempFolders.Delete(Root);

    private async Task RunCheckedAsync(string workingDirectory, params string[] arguments)
    {
        var result = await DotNetCli.RunAsync(workingDirectory, arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"'dotnet {string.Join(' ', arguments)}' failed:\n{result.Output}");
        }
    }

    /// <summary>The consumer app as a child process; killed (with its tree) when disposed.</summary>
    internal sealed class RunningApp : IDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _output = new();

        public RunningApp(Process process)
        {
            _process = process;
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.BeginErrorReadLine();
        }

        public Uri Address { get; set; } = null!;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public async Task<Uri> WaitForAddressAsync(CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            while (await _process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                Append(line);
                if (ListeningLine().Match(line) is { Success: true } match)
                {
                    _ = DrainAsync();
                    return new Uri(match.Groups["address"].Value);
                }
            }

            throw new InvalidOperationException("The consumer exited before it listened:\n" + Output);
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(10_000);
                }
            }
            finally
            {
                _process.Dispose();
            }
        }

        private async Task DrainAsync()
        {
            try
            {
                while (await _process.StandardOutput.ReadLineAsync() is { } line)
                {
                    Append(line);
                }
            }
            catch (InvalidOperationException)
            {
                // The process was disposed while reading.
            }
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    [GeneratedRegex(@"Now listening on: (?<address>http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
