using System.Globalization;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.EndToEnd;

/// <summary>
/// <c>Isolation.Core</c> packed once per test run into a temporary folder feed, with a version no registry has, so a
/// consumer that restores it can only get this build. Removed when the test process exits.
/// </summary>
internal sealed class PackedFeed
{
    private static readonly Lazy<Task<PackedFeed>> Instance = new(PackAsync);

    private PackedFeed(string folder, string version)
    {
        Folder = folder;
        Version = version;
    }

    /// <summary>Gets the folder that holds the package.</summary>
    public string Folder { get; }

    /// <summary>Gets the package version.</summary>
    public string Version { get; }

    /// <summary>Gets the path of the packed <c>.nupkg</c>.</summary>
    public string Package => Path.Combine(Folder, $"Isolation.Core.{Version}.nupkg");

    public static Task<PackedFeed> GetAsync() => Instance.Value;

    private static async Task<PackedFeed> PackAsync()
    {
        var version = "0.0.0-e2e." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        var folder = Path.Combine(Path.GetTempPath(), "isolation-feed-" + Guid.NewGuid().ToString("N"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TempFolders.Delete(folder);

        // The test project builds both of Isolation.Core's targets first (see its project references).
        var pack = await DotNetCli.RunAsync(
            Repository.Root,
            "pack", Path.Combine("src", "Isolation.Core", "Isolation.Core.csproj"),
            "--no-build", "-c", DotNetCli.Configuration, "-o", folder, "-p:PackageVersion=" + version, "-p:IncludeSymbols=false", "-nr:false");
        var feed = new PackedFeed(folder, version);
        if (pack.ExitCode != 0 || !File.Exists(feed.Package))
        {
            throw new InvalidOperationException("dotnet pack of Isolation.Core failed:\n" + pack.Output);
        }

        return feed;
    }
}
