using System.Text.RegularExpressions;
using Isolation.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Tests;

/// <summary>Every rule has its page, its help link, its release-tracking line, and its documented title.</summary>
public sealed partial class DocumentationTests
{
    public static TheoryData<string> RuleIds => new(AllDescriptors().Select(d => d.Id).Distinct().Order(StringComparer.Ordinal));

    [Fact]
    public void Descriptors_AllTwelveRules_AreShipped()
    {
        var ids = AllDescriptors().Select(d => d.Id).Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["ISO001", "ISO002", "ISO003", "ISO004", "ISO005", "ISO006", "ISO007", "ISO101", "ISO102", "ISO103", "ISO104", "ISO201"], ids);
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void HelpLink_EveryRule_PointsAtItsPageInTheRepository(string id)
    {
        var descriptor = AllDescriptors().First(d => d.Id == id);
        Assert.Equal(Descriptors.HelpLinkBase + id + ".md", descriptor.HelpLinkUri);
        Assert.EndsWith("docs/rules/" + id + ".md", descriptor.HelpLinkUri, StringComparison.Ordinal);
        Assert.True(File.Exists(DocPath(id)), $"docs/rules/{id}.md is missing.");
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void Heading_EveryRulePage_EqualsDescriptorTitle(string id)
    {
        var descriptor = AllDescriptors().First(d => d.Id == id);
        var firstLine = File.ReadLines(DocPath(id)).First();
        Assert.Equal($"# {id} - {descriptor.Title}", firstLine);
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void Page_EveryRule_HasTheRequiredSections(string id)
    {
        var text = File.ReadAllText(DocPath(id));
        foreach (var section in new[] { "## What it flags", "## Why", "## How to fix", "## Configuration", "## False positives and suppression", "## Known limits" })
        {
            Assert.Contains(section, text, StringComparison.Ordinal);
        }

        var severity = AllDescriptors().First(d => d.Id == id).DefaultSeverity == DiagnosticSeverity.Error ? "error" : "warning";
        Assert.Contains($"| Severity | {severity} |", text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void ReleaseTracking_EveryRule_ListedWithItsSeverity(string id)
    {
        var descriptor = AllDescriptors().First(d => d.Id == id);
        var unshipped = File.ReadAllText(Path.Combine(Repository.Root, "src", "Isolation.Analyzers", "AnalyzerReleases.Unshipped.md"));
        var line = TrackingLine().Matches(unshipped).Select(m => m.Value).SingleOrDefault(l => l.StartsWith(id + " ", StringComparison.Ordinal));
        Assert.NotNull(line);
        Assert.Contains($"| {descriptor.Category} | {descriptor.DefaultSeverity} |", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Descriptors_EveryRule_IsEnabledAndConfigurable()
    {
        foreach (var descriptor in AllDescriptors())
        {
            Assert.True(descriptor.IsEnabledByDefault, descriptor.Id);
            Assert.DoesNotContain(WellKnownDiagnosticTags.NotConfigurable, descriptor.CustomTags);
        }
    }

    [Theory]
    [InlineData("README.md", @"Errors by default, which fail the build: (?<errors>[^.]+)\. Warnings\s+by default, which do not: (?<warnings>[^.]+)\.")]
    [InlineData("src/PackageReadme.md", @"Errors by default \(they fail the build\): (?<errors>[^.]+)\. Warnings by default: (?<warnings>[^;]+);")]
    public void Readme_Severities_ListExactlyTheErrorAndWarningRules(string file, string pattern)
    {
        var text = File.ReadAllText(Path.Combine(Repository.Root, file)).Replace("\r\n", "\n", StringComparison.Ordinal);
        var match = Regex.Match(text, pattern);
        Assert.True(match.Success, file + " does not say which rules are errors and which warnings.");
        static string[] Ids(string list) => Regex.Matches(list, @"ISO\d{3}").Select(m => m.Value).Order(StringComparer.Ordinal).ToArray();
        var descriptors = AllDescriptors().GroupBy(d => d.Id).Select(g => g.First()).ToArray();

        Assert.Equal(descriptors.Where(d => d.DefaultSeverity == DiagnosticSeverity.Error).Select(d => d.Id).Order(StringComparer.Ordinal), Ids(match.Groups["errors"].Value));
        Assert.Equal(descriptors.Where(d => d.DefaultSeverity == DiagnosticSeverity.Warning).Select(d => d.Id).Order(StringComparer.Ordinal), Ids(match.Groups["warnings"].Value));
    }

    private static string DocPath(string id) => Path.Combine(Repository.Root, "docs", "rules", id + ".md");

    private static IEnumerable<DiagnosticDescriptor> AllDescriptors() => Repository.AllAnalyzers.SelectMany(a => a.SupportedDiagnostics);

    [GeneratedRegex(@"^ISO\d{3} \|.*$", RegexOptions.Multiline)]
    private static partial Regex TrackingLine();
}
