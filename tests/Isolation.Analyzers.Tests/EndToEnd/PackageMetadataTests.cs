using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.EndToEnd;

/// <summary>
/// <c>Directory.Build.props</c> is the one place for the repository's address: the packed nuspec, every diagnostic's help
/// link and the links of the package README and changelog agree with it, and every link points at a file that exists.
/// </summary>
[Collection(DotNetCliCollection.Name)]
public sealed partial class PackageMetadataTests
{
    private static readonly string[] SourceProjects =
        ["Isolation.Core", "Isolation.AspNetCore", "Isolation.Redis", "Isolation.AgentFramework", "Isolation.EntityFrameworkCore"];

    private static string RepositoryAddress
        => XDocument.Load(Path.Combine(Repository.Root, "Directory.Build.props")).Descendants("RepositoryUrl").Single().Value;

    private static string BlobBase => RepositoryAddress + "/blob/main/";

    [Fact]
    public async Task Nuspec_PackedIsolationCore_CarriesRepositoryLicenseReadmeAndChangelog()
    {
        var feed = await PackedFeed.GetAsync();
        using var package = ZipFile.OpenRead(feed.Package);
        var nuspec = XDocument.Load(package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Element(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
        var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        var license = metadata.Elements().Single(e => e.Name.LocalName == "license");

        Assert.Equal(RepositoryAddress, (string?)repository.Attribute("url"));
        Assert.Equal("git", (string?)repository.Attribute("type"));
        Assert.Equal(RepositoryAddress, Element("projectUrl"));
        Assert.Equal(("expression", "MIT"), ((string?)license.Attribute("type"), license.Value));
        Assert.Equal("README.md", Element("readme"));

        Assert.Equal(ReadRepositoryFile("src/PackageReadme.md"), ReadEntry(package, "README.md"));
        Assert.Equal(ReadRepositoryFile("CHANGELOG.md"), ReadEntry(package, "CHANGELOG.md"));
        var licenseText = ReadEntry(package, "LICENSE");
        Assert.Equal(ReadRepositoryFile("LICENSE"), licenseText);
        Assert.StartsWith("MIT License", licenseText, StringComparison.Ordinal);
        Assert.Contains(package.Entries, e => e.FullName == "analyzers/dotnet/cs/Isolation.Analyzers.dll");
        Assert.Contains(package.Entries, e => e.FullName == "analyzers/dotnet/cs/Isolation.CodeFixes.dll");
    }

    [Fact]
    public async Task Nuspec_BothFrameworks_DependOnTheMicrosoftExtensionsVersionTheReadmeNames()
    {
        var feed = await PackedFeed.GetAsync();
        using var package = ZipFile.OpenRead(feed.Package);
        var nuspec = XDocument.Load(package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var groups = nuspec.Descendants().Where(e => e.Name.LocalName == "group").ToDictionary(g => (string)g.Attribute("targetFramework")!);
        var version = XDocument.Load(Path.Combine(Repository.Root, "Directory.Packages.props")).Descendants("MicrosoftExtensionsVersion").Single().Value;
        var readme = ReadRepositoryFile("README.md");

        Assert.Equal(["net10.0", "net8.0"], groups.Keys.Order(StringComparer.Ordinal));
        foreach (var group in groups.Values)
        {
            var dependencies = group.Elements().ToDictionary(d => (string)d.Attribute("id")!, d => (string)d.Attribute("version")!);
            Assert.NotEmpty(dependencies);
            Assert.All(dependencies, d => Assert.StartsWith("Microsoft.Extensions.", d.Key, StringComparison.Ordinal));
            Assert.All(dependencies, d => Assert.Equal(version, d.Value));
            Assert.All(dependencies.Keys, id => Assert.Contains("`" + id["Microsoft.Extensions.".Length..] + "`", readme, StringComparison.Ordinal));
        }

        Assert.Contains($"`Microsoft.Extensions.*` {version} packages", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void HelpLinks_EveryDiagnostic_IsDerivedFromRepositoryUrlAndPointsAtItsPage()
    {
        var descriptors = Repository.AllAnalyzers.SelectMany(a => a.SupportedDiagnostics).ToArray();

        Assert.NotEmpty(descriptors);
        foreach (var descriptor in descriptors)
        {
            Assert.Equal(BlobBase + "docs/rules/" + descriptor.Id + ".md", descriptor.HelpLinkUri);
            Assert.True(File.Exists(Path.Combine(Repository.Root, "docs", "rules", descriptor.Id + ".md")), descriptor.HelpLinkUri);
        }
    }

    [Theory]
    [InlineData("src/PackageReadme.md")]
    [InlineData("CHANGELOG.md")]
    public void Links_PackagePages_AreAbsoluteAndPointAtExistingFiles(string file)
    {
        var links = MarkdownLink().Matches(ReadRepositoryFile(file)).Select(m => m.Groups["target"].Value).ToArray();

        Assert.NotEmpty(links);
        foreach (var link in links)
        {
            Assert.StartsWith("https://", link, StringComparison.Ordinal);
            if (link.StartsWith(BlobBase, StringComparison.Ordinal))
            {
                var path = link[BlobBase.Length..].Split('#')[0];
                Assert.True(File.Exists(Path.Combine(Repository.Root, path)) || Directory.Exists(Path.Combine(Repository.Root, path)), $"{file}: {link} points at nothing in the repository.");
            }
            else if (link.StartsWith(RepositoryAddress, StringComparison.Ordinal))
            {
                Assert.Matches(@"/(compare|releases)/", link);
            }
        }
    }

    [Fact]
    public async Task Packages_EveryPackableProject_PacksLicenseChangelogAndReadmeWithTheRepositoryUrls()
    {
        foreach (var project in SourceProjects)
        {
            var result = await DotNetCli.RunAsync(
                Repository.Root,
                "msbuild", Path.Combine("src", project, project + ".csproj"), "-nologo",
                "-getProperty:IsPackable", "-getProperty:RepositoryUrl", "-getProperty:PackageProjectUrl", "-getProperty:PackageReadmeFile",
                "-getProperty:PackageLicenseExpression", "-getItem:None", "-p:TargetFramework=net10.0");
            Assert.True(result.ExitCode == 0, project + ":\n" + result.Output);
            using var json = JsonDocument.Parse(result.Output);
            var properties = json.RootElement.GetProperty("Properties");
            Assert.NotEqual("false", properties.GetProperty("IsPackable").GetString());
            Assert.Equal(RepositoryAddress, properties.GetProperty("RepositoryUrl").GetString());
            Assert.Equal(RepositoryAddress, properties.GetProperty("PackageProjectUrl").GetString());
            Assert.Equal("README.md", properties.GetProperty("PackageReadmeFile").GetString());
            Assert.Equal("MIT", properties.GetProperty("PackageLicenseExpression").GetString());
            var packed = json.RootElement.GetProperty("Items").GetProperty("None").EnumerateArray()
                .Where(i => i.TryGetProperty("Pack", out var pack) && pack.GetString() == "true")
                .Select(i => (Path.GetFileName(i.GetProperty("FullPath").GetString()!), i.GetProperty("PackagePath").GetString()))
                .ToArray();
            Assert.Contains(("LICENSE", ""), packed);
            Assert.Contains(("CHANGELOG.md", ""), packed);
            Assert.Contains(("PackageReadme.md", "README.md"), packed);
        }
    }

    private static string ReadRepositoryFile(string path) => File.ReadAllText(Path.Combine(Repository.Root, path));

    private static string ReadEntry(ZipArchive package, string name)
    {
        using var reader = new StreamReader(package.GetEntry(name)?.Open() ?? throw new InvalidOperationException(name + " is not in the package."));
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)|^\[[^\]]+\]: (?<target>\S+)$", RegexOptions.Multiline)]
    private static partial Regex MarkdownLink();
}
