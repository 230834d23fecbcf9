using System.Diagnostics.Metrics;
using System.Reflection;
using Isolation.Redis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Redis.Tests.Docs;

/// <summary>docs/multi-node.md documents every instrument (name, kind, unit) and every drop reason the package uses.</summary>
public sealed class MultiNodeDocsTests
{
    private static readonly string Page = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Docs", "multi-node.md"));

    [Fact]
    public void DropReasons_EveryConstant_IsInTheDocsTable()
    {
        var reasons = typeof(RedisDropReasons).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!).ToList();

        Assert.NotEmpty(reasons);
        Assert.All(reasons, r => Assert.Contains("`" + r + "`", Page, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Instruments_EveryOnePublished_IsDocumentedWithItsUnit()
    {
        var services = new ServiceCollection().AddRedisEventDelivery(o =>
        {
            o.Configuration = "127.0.0.1:1";
            o.EnvironmentPrefix = "docs";
            o.SigningKey = RedisTestEnvironment.NewKey();
        });
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == RedisTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    instruments.Add(instrument);
                }
            },
        };
        listener.Start();

        _ = provider.GetRequiredService<RedisConnectionRegistry>();

        Assert.Equal(
            [RedisTelemetry.MessageGaps, RedisTelemetry.MessagesReceived, RedisTelemetry.MessagesSent],
            instruments.Select(i => i.Name).Order(StringComparer.Ordinal));
        foreach (var instrument in instruments)
        {
            var row = Page.Split('\n').Single(l => l.StartsWith("| `" + instrument.Name + "`", StringComparison.Ordinal));
            Assert.Contains("| counter |", row, StringComparison.Ordinal);
            Assert.Contains("`" + instrument.Unit + "`", row, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(instrument.Description));
        }
    }
}
