using System.Diagnostics.Metrics;

namespace Isolation;

/// <summary>The session instruments (<c>isolation.session.*</c>), created once per service provider on the library's meter.</summary>
internal sealed class SessionMetrics
{
    private readonly Histogram<double> _acquireDuration;
    private readonly UpDownCounter<long> _active;

    public SessionMetrics(Meter meter)
    {
        _acquireDuration = meter.CreateHistogram<double>(
            IsolationTelemetry.SessionAcquireDuration,
            unit: "s",
            description: "How long opening a session took: waiting for a free slot in its pool plus creating the session.");
        _active = meter.CreateUpDownCounter<long>(
            IsolationTelemetry.SessionActive,
            unit: "{session}",
            description: "Number of sessions currently open (held by a scope), by session type.");
    }

    public bool AcquireDurationEnabled => _acquireDuration.Enabled;

    /// <summary>Records one handed-out session; <paramref name="seconds"/> is negative when the histogram is not listened to.</summary>
    public void Acquired(KeyValuePair<string, object?> typeTag, double seconds)
    {
        if (seconds >= 0)
        {
            _acquireDuration.Record(seconds, typeTag);
        }

        _active.Add(1, typeTag);
    }

    public void Released(KeyValuePair<string, object?> typeTag) => _active.Add(-1, typeTag);
}
