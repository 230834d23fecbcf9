using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Docs;

/// <summary>docs/observability.md is the instrument catalogue: it must list exactly what the library publishes.</summary>
public sealed partial class ObservabilityDocsTests
{
    [Fact]
    public async Task Catalogue_MatchesPublishedInstruments()
    {
        var documented = ReadCatalogue();
        var published = await PublishedInstrumentsAsync();

        Assert.Equal(documented.Keys.Order(StringComparer.Ordinal), published.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, doc) in documented)
        {
            var actual = published[name];
            Assert.True(doc == actual, $"{name}: documented {doc}, published {actual}");
        }
    }

    [Fact]
    public void Catalogue_ListsEveryInstrumentNameConstant()
    {
        var documented = ReadCatalogue();
        var constants = typeof(IsolationTelemetry).GetFields()
            .Where(f => f.IsLiteral && f.Name is not (nameof(IsolationTelemetry.MeterName) or nameof(IsolationTelemetry.ActivitySourceName)
                or nameof(IsolationTelemetry.ScopeActivityName) or nameof(IsolationTelemetry.ViolationEventName)) && !f.Name.EndsWith("Tag", StringComparison.Ordinal))
            .Select(f => (string)f.GetRawConstantValue()!);

        Assert.All(constants, name => Assert.Contains(name, documented.Keys));
    }

    [Fact]
    public void LogTable_ListsEveryLoggerMessageEventId()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "observability.md"));
        var ids = typeof(IsolationMonitor).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic))
            .Select(m => m.GetCustomAttributes(typeof(Microsoft.Extensions.Logging.LoggerMessageAttribute), false).Cast<Microsoft.Extensions.Logging.LoggerMessageAttribute>().SingleOrDefault())
            .Where(a => a is not null)
            .Select(a => (a!.EventId, a.EventName, a.Level))
            .ToArray();

        Assert.NotEmpty(ids);
        Assert.Equal(ids.Length, ids.Select(i => i.EventId).Distinct().Count());
        Assert.All(ids, id => Assert.Contains($"| {id.EventId} | `{id.EventName}` | {id.Level} |", doc, StringComparison.Ordinal));
    }

    private static Dictionary<string, (string Kind, string Unit, string Description)> ReadCatalogue()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "observability.md"));
        var rows = new Dictionary<string, (string, string, string)>(StringComparer.Ordinal);
        foreach (Match row in CatalogueRow().Matches(doc))
        {
            rows.Add(row.Groups["name"].Value, (row.Groups["kind"].Value.Trim(), row.Groups["unit"].Value, row.Groups["description"].Value.Trim()));
        }

        Assert.NotEmpty(rows);
        return rows;
    }

    private static async Task<Dictionary<string, (string Kind, string Unit, string Description)>> PublishedInstrumentsAsync()
    {
        var services = new ServiceCollection()
            .AddIsolation()
            .AddIsolatedSession<SqliteConnection>((_, _) => ValueTask.FromResult(new SqliteConnection("Data Source=:memory:")));
        await using var provider = services.BuildServiceProvider();
        var meter = provider.GetRequiredService<IsolationMonitor>().Metrics.Meter;
        var published = new Dictionary<string, (string, string, string)>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    lock (published)
                    {
                        published[instrument.Name] = (KindOf(instrument), instrument.Unit ?? string.Empty, instrument.Description ?? string.Empty);
                    }
                }
            },
        };
        listener.Start();

        // Create what creates the instruments lazily: the runner, the event registry, a session pool.
        provider.GetRequiredService<IIsolatedRunner>();
        provider.GetRequiredService<IConnectionRegistry>();
        await using (var scope = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("docs")))
        {
            await using var session = await scope.OpenSessionAsync<SqliteConnection>();
        }

        lock (published)
        {
            return new Dictionary<string, (string, string, string)>(published, StringComparer.Ordinal);
        }
    }

    private static string KindOf(Instrument instrument)
    {
        var type = instrument.GetType();
        var name = type.IsGenericType ? type.GetGenericTypeDefinition().Name : type.Name;
        return name switch
        {
            "Counter`1" => "counter",
            "UpDownCounter`1" => "up-down counter",
            "Histogram`1" => "histogram",
            "ObservableGauge`1" => "observable gauge",
            "ObservableCounter`1" => "observable counter",
            "ObservableUpDownCounter`1" => "observable up-down counter",
            "Gauge`1" => "gauge",
            _ => name,
        };
    }

    [GeneratedRegex(@"^\| `(?<name>isolation\.[a-z.]+)` \| (?<kind>[a-z -]+) \| `(?<unit>[^`]*)` \| (?<description>[^|]+) \|", RegexOptions.Multiline)]
    private static partial Regex CatalogueRow();
}
