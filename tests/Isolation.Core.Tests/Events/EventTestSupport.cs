using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Events;

internal static class EventTestSupport
{
    /// <summary>A token that fails the test instead of letting it hang: cancelled after <paramref name="seconds"/> or when xunit cancels.</summary>
    public static CancellationTokenSource Timeout(int seconds = 30)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(TimeSpan.FromSeconds(seconds));
        return source;
    }

    public static MetricCollector<long> DroppedCollector(IServiceProvider services) =>
        new(services.GetRequiredService<IMeterFactory>(), IsolationTelemetry.MeterName, IsolationTelemetry.EventsDropped);

    public static long Dropped(this MetricCollector<long> collector, string reason)
    {
        long total = 0;
        foreach (var measurement in collector.GetMeasurementSnapshot())
        {
            if (measurement.Tags.TryGetValue(IsolationTelemetry.DropReasonTag, out var tag) && (string?)tag == reason)
            {
                total += measurement.Value;
            }
        }

        return total;
    }

    public static TimeSpan Percentile(List<TimeSpan> values, double percentile)
    {
        values.Sort();
        var index = (int)Math.Ceiling(percentile / 100d * values.Count) - 1;
        return values[Math.Clamp(index, 0, values.Count - 1)];
    }

    public static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);
}

/// <summary>A custom sink as an application would write one for another transport: it records what it is given.</summary>
internal sealed class RecordingSink : IEventSink
{
    private readonly object _lock = new();
    private readonly List<EventEnvelope> _received = [];

    public RecordingSink(string userId, string connectionId)
    {
        UserId = userId;
        ConnectionId = connectionId;
    }

    public string UserId { get; set; }

    public string ConnectionId { get; }

    public bool Accept { get; set; } = true;

    public Action<EventEnvelope>? OnWrite { get; set; }

    public List<EventEnvelope> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _received];
            }
        }
    }

    public bool TryWrite(EventEnvelope envelope)
    {
        OnWrite?.Invoke(envelope);
        if (!Accept)
        {
            return false;
        }

        lock (_lock)
        {
            _received.Add(envelope);
        }

        return true;
    }
}
