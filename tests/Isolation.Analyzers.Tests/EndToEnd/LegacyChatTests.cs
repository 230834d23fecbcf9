using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.EndToEnd;

/// <summary>
/// Builds <c>samples/LegacyChat</c> (not part of the solution) and asserts it fails with exactly the diagnostics its
/// sources mark with <c>// [ISOnnn severity]</c>: no more, no fewer, on those lines.
/// </summary>
[Collection(DotNetCliCollection.Name)]
public sealed class LegacyChatTests
{
    [Fact]
    public async Task Build_LegacyChat_FailsWithExactlyTheMarkedDiagnostics()
    {
        var sample = Path.Combine(Repository.Root, "samples", "LegacyChat");
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(sample, "*.cs", SearchOption.TopDirectoryOnly))
        {
            expected.UnionWith(DotNetCli.ExpectedDiagnostics(Path.GetFileName(file), File.ReadAllText(file)));
        }

        Assert.Equal(13, expected.Count);

        var build = await DotNetCli.RunAsync(sample, "build", "LegacyChat.csproj", "-c", DotNetCli.Configuration, "-nr:false");

        Assert.True(build.ExitCode != 0, "LegacyChat built without errors:\n" + build.Output);
        Assert.DoesNotContain(": error CS", build.Output, StringComparison.Ordinal);
        Assert.Equal(expected, DotNetCli.IsolationDiagnostics(build.Output));
    }
}
