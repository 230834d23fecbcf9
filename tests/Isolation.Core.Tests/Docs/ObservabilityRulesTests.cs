using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Isolation.Tests.Docs;

/// <summary>
/// Issue 12 item 6: the alert and recording rules of docs/observability.md (the file docs/prometheus/isolation-rules.yml)
/// name only metrics and labels the library publishes, under the OpenTelemetry Prometheus exporter's naming, and pass
/// <c>promtool check rules</c>.
/// </summary>
public sealed partial class ObservabilityDocsTests
{
    private static string RulesPath => Path.Combine(RepositoryRoot.Path, "docs", "prometheus", "isolation-rules.yml");

    [Fact]
    public void Rules_AreQuotedWholeInTheDocs()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "observability.md"));

        Assert.Contains("```yaml\n" + File.ReadAllText(RulesPath) + "```", doc.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RulesAndDocs_NameOnlyPublishedMetricsAndLabels()
    {
        var published = await PublishedInstrumentsAsync();
        var metrics = published.SelectMany(p => PrometheusNames(p.Key, p.Value.Kind, p.Value.Unit)).ToHashSet(StringComparer.Ordinal);
        var labels = typeof(IsolationTelemetry).GetFields()
            .Where(f => f.IsLiteral && f.Name.EndsWith("Tag", StringComparison.Ordinal))
            .Select(f => Sanitize((string)f.GetRawConstantValue()!))
            .ToHashSet(StringComparer.Ordinal);
        var texts = new[]
        {
            File.ReadAllText(RulesPath),
            File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "observability.md")),
            File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "rollout.md")),
        };
        var named = texts.SelectMany(t => PrometheusIdentifier().Matches(t).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);

        // The rules use the two score counters, the violations counter and the histogram's buckets: the check has teeth.
        Assert.Contains("isolation_scopes_finished_total", named);
        Assert.Contains("isolation_scopes_violated_total", named);
        Assert.Contains("isolation_violations_total", named);
        Assert.Contains("isolation_agent_creation_duration_seconds_bucket", named);
        Assert.Contains("isolation_score_ratio", metrics);
        Assert.All(named, name => Assert.True(
            metrics.Contains(name) || labels.Contains(name),
            $"'{name}' is named by docs/observability.md, docs/rollout.md or the rules file, but the library publishes no such metric or label. Published metrics: {string.Join(", ", metrics.Order(StringComparer.Ordinal))}."));
    }

    [Fact]
    public async Task Rules_PassPromtoolCheckRules()
    {
        var promtool = FindOnPath("promtool");
        if (promtool is null)
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail("promtool is not installed although CI=true: .ci/setup.d/40-prometheus.sh must install Debian's prometheus package before the tests run.");
            }

            Assert.Skip("promtool test skipped: promtool is not on PATH. Run 'source .ci/setup.d/40-prometheus.sh' as root (installs Debian's prometheus package, which provides promtool).");
        }

        var start = new ProcessStartInfo(promtool, ["check", "rules", RulesPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var output = new StringBuilder().Append(await stdout).Append(await stderr);

        Assert.True(process.ExitCode == 0, $"promtool check rules failed ({process.ExitCode}):\n{output}");
        Assert.Contains("SUCCESS: 9 rules found", output.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The names the OpenTelemetry Prometheus exporter gives an instrument: sanitized, the unit as a suffix (annotations
    /// such as <c>{scope}</c> dropped, <c>s</c> as <c>seconds</c>), <c>_total</c> for counters, <c>_ratio</c> for a gauge of
    /// unit <c>1</c>, and <c>_bucket</c>/<c>_count</c>/<c>_sum</c> for a histogram.
    /// </summary>
    private static IEnumerable<string> PrometheusNames(string instrument, string kind, string unit)
    {
        var name = Sanitize(instrument);
        var suffix = Regex.Replace(unit, @"\{[^}]*\}", string.Empty) switch
        {
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            "1" => string.Empty,
            var other => other,
        };
        if (suffix.Length > 0 && !name.Contains(suffix, StringComparison.Ordinal))
        {
            name += "_" + suffix;
        }

        switch (kind)
        {
            case "counter" or "observable counter":
                return [name.Contains("total", StringComparison.Ordinal) ? name : name + "_total"];
            case "histogram":
                return [name + "_bucket", name + "_count", name + "_sum"];
            default: // gauges and up-down counters are Prometheus gauges
                return [unit == "1" && !name.Contains("ratio", StringComparison.Ordinal) ? name + "_ratio" : name];
        }
    }

    private static string Sanitize(string name) => Regex.Replace(name, "[^A-Za-z0-9:]+", "_");

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    [GeneratedRegex(@"\bisolation_[a-z0-9_]*[a-z0-9]")]
    private static partial Regex PrometheusIdentifier();
}
