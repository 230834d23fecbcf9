using System.Diagnostics.Metrics;
using Isolation.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Isolation.Tests.Sessions;

public sealed class SessionMetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenSessionAsync_RecordsAcquireDurationAndActiveSessionsBySessionType()
    {
        await using var host = SessionTestHost.Sqlite();
        var meterFactory = host.Provider.GetRequiredService<IMeterFactory>();
        using var duration = new MetricCollector<double>(meterFactory, IsolationTelemetry.MeterName, IsolationTelemetry.SessionAcquireDuration);
        using var active = new MetricCollector<long>(meterFactory, IsolationTelemetry.MeterName, IsolationTelemetry.SessionActive);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));

        var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        var opened = active.GetMeasurementSnapshot();
        await guard.DisposeAsync();

        var acquire = Assert.Single(duration.GetMeasurementSnapshot());
        Assert.True(acquire.Value >= 0);
        Assert.Equal(typeof(SqliteConnection).FullName, acquire.Tags[IsolationTelemetry.SessionTypeTag]);
        Assert.Equal([1L], opened.Select(m => m.Value));
        Assert.Equal([1L, -1L], active.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(active.GetMeasurementSnapshot(), m => Assert.Equal(typeof(SqliteConnection).FullName, m.Tags[IsolationTelemetry.SessionTypeTag]));
    }

    [Fact]
    public async Task Instruments_HaveDocumentedUnitsAndDescriptions()
    {
        await using var host = SessionTestHost.Sqlite();
        var meterFactory = host.Provider.GetRequiredService<IMeterFactory>();
        using var duration = new MetricCollector<double>(meterFactory, IsolationTelemetry.MeterName, IsolationTelemetry.SessionAcquireDuration);
        using var active = new MetricCollector<long>(meterFactory, IsolationTelemetry.MeterName, IsolationTelemetry.SessionActive);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using (await scope.OpenSessionAsync<SqliteConnection>(Ct))
        {
        }

        Assert.Equal("s", duration.Instrument!.Unit);
        Assert.IsType<Histogram<double>>(duration.Instrument);
        Assert.False(string.IsNullOrWhiteSpace(duration.Instrument.Description));
        Assert.Equal("{session}", active.Instrument!.Unit);
        Assert.IsType<UpDownCounter<long>>(active.Instrument);
        Assert.False(string.IsNullOrWhiteSpace(active.Instrument.Description));
    }

    [Fact]
    public async Task Violations_AreCountedByKind()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Observe);
        var meterFactory = host.Provider.GetRequiredService<IMeterFactory>();
        using var violations = new MetricCollector<long>(meterFactory, IsolationTelemetry.MeterName, IsolationTelemetry.Violations);
        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
            using (guard.Enter())
            {
                await Task.Run(() => guard.Enter().Dispose(), Ct);
            }
        }

        var kinds = violations.GetMeasurementSnapshot().Select(m => (string)m.Tags[IsolationTelemetry.ViolationKindTag]!).ToList();
        Assert.Equal(["concurrent_use", "session_leak"], kinds);
    }
}
