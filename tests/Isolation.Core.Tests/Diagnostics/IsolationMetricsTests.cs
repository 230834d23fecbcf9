using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Isolation.Tests.Diagnostics;

public sealed class IsolationMetricsTests
{
    [Fact]
    public async Task ScopeActive_CreateAndDispose_GoesUpAndDown()
    {
        await using var host = TestHost.Create();
        using var active = new MetricCollector<long>(host.Metrics.Meter, IsolationTelemetry.ScopeActive);

        var scope = host.CreateScope();
        Assert.Equal(1, active.LastMeasurement!.Value);
        await scope.DisposeAsync();

        Assert.Equal(new long[] { 1, -1 }, active.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal("{scope}", active.Instrument!.Unit);
    }

    [Fact]
    public async Task ScopeDuration_Statuses_TaggedCompletedTimedOutCancelled()
    {
        await using var host = TestHost.Create();
        using var duration = new MetricCollector<double>(host.Metrics.Meter, IsolationTelemetry.ScopeDuration);

        await using (host.CreateScope())
        {
        }

        await using (var timedOut = host.CreateScope(deadline: TimeSpan.FromSeconds(1)))
        {
            host.Time.Advance(TimeSpan.FromSeconds(2));
        }

        await using (var cancelled = host.CreateScope())
        {
            cancelled.Abort();
        }

        var statuses = duration.GetMeasurementSnapshot().Select(m => m.Tags[IsolationTelemetry.RunStatusTag]).ToArray();
        Assert.Equal(new object?[] { "completed", "timed_out", "cancelled" }, statuses);
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.True(m.Value >= 0));
        Assert.Equal("s", duration.Instrument!.Unit);
    }

    [Fact]
    public async Task AgentCreationDuration_TaggedWithTypeAndPooled()
    {
        await using var host = TestHost.Create(s => s.AddScoped<ScopedDependency>().AddIsolatedAgent<NotesAgent>()
            .AddIsolatedAgent<PooledNotesAgent>(o => o.UsePool = true));
        using var creation = new MetricCollector<double>(host.Metrics.Meter, IsolationTelemetry.AgentCreationDuration);

        await using (var scope = host.CreateScope())
        {
            scope.GetAgent<NotesAgent>();
            scope.GetAgent<PooledNotesAgent>();
        }

        var measurements = creation.GetMeasurementSnapshot();
        Assert.Equal(2, measurements.Count);
        Assert.Equal(typeof(NotesAgent).FullName, measurements[0].Tags[IsolationTelemetry.AgentTypeTag]);
        Assert.Equal("false", measurements[0].Tags[IsolationTelemetry.AgentPooledTag]);
        Assert.Equal(typeof(PooledNotesAgent).FullName, measurements[1].Tags[IsolationTelemetry.AgentTypeTag]);
        Assert.Equal("true", measurements[1].Tags[IsolationTelemetry.AgentPooledTag]);
        Assert.Equal(2, measurements[0].Tags.Count);
    }

    [Fact]
    public async Task Violations_CountedByKindWithoutUserTags()
    {
        var shared = new PlainAgent();
        await using var host = TestHost.Create(s => s.AddIsolatedAgent<PlainAgent>(_ => shared), o => o.Mode = IsolationMode.Observe);
        using var violations = new MetricCollector<long>(host.Metrics.Meter, IsolationTelemetry.Violations);

        for (var i = 0; i < 3; i++)
        {
            await using var scope = host.CreateScope("user-" + i);
            scope.GetAgent<PlainAgent>();
        }

        var measurements = violations.GetMeasurementSnapshot();
        Assert.Equal(2, measurements.Count);
        Assert.All(measurements, m =>
        {
            Assert.Equal(1, m.Value);
            Assert.Equal("singleton_reuse", m.Tags[IsolationTelemetry.ViolationKindTag]);
            Assert.Single(m.Tags);
        });
    }

    [Fact]
    public async Task Score_CleanAndDirtyScopes_IsShareOfCleanOnes()
    {
        var shared = new PlainAgent();
        await using var host = TestHost.Create(s => s.AddIsolatedAgent<PlainAgent>(_ => shared), o => o.Mode = IsolationMode.Observe);
        using var score = new MetricCollector<double>(host.Metrics.Meter, IsolationTelemetry.Score);

        score.RecordObservableInstruments();
        Assert.Equal(1d, score.LastMeasurement!.Value);

        for (var i = 0; i < 4; i++)
        {
            await using var scope = host.CreateScope("user-" + i);
            if (i % 2 == 0)
            {
                scope.GetAgent<PlainAgent>();
            }
        }

        score.RecordObservableInstruments();

        // Scope 0 takes the instance first (clean); scope 2 is handed the same instance: 1 of 4 is dirty.
        Assert.Equal(0.75, score.LastMeasurement!.Value, 3);
        Assert.Equal(4, host.Monitor.FinishedScopes);
        Assert.Equal(1, host.Monitor.ScopesWithViolations);
    }

    [Fact]
    public async Task Score_StaleUseFromAnotherScope_CountsTheOwnerAndTheUserOnceEach()
    {
        await using var host = TestHost.Create(s => s.AddIsolatedAgent<PooledNotesAgent>(o => o.UsePool = true), o => o.Mode = IsolationMode.Observe);
        PooledNotesAgent kept;
        await using (var scope = host.CreateScope("alice"))
        {
            kept = scope.GetAgent<PooledNotesAgent>();
        }

        await using (var bob = host.CreateScope("bob"))
        {
            kept.Add("stale");
            kept.Add("stale again");
        }

        // Alice's scope let its agent escape, Bob's used it: both scopes had a violation, each counted once.
        Assert.Equal(2, host.Monitor.FinishedScopes);
        Assert.Equal(2, host.Monitor.ScopesWithViolations);
        Assert.Equal(0d, host.Monitor.GetScore(), 3);
    }

    [Fact]
    public async Task Monitor_HandlerThrows_ViolationStillCountedAndLogged()
    {
        var shared = new PlainAgent();
        await using var host = TestHost.Create(s => s.AddIsolatedAgent<PlainAgent>(_ => shared), o => o.Mode = IsolationMode.Observe);
        host.Monitor.ViolationDetected += (_, _) => throw new InvalidOperationException("handler bug");
        var seen = host.CaptureViolations();

        for (var i = 0; i < 2; i++)
        {
            await using var scope = host.CreateScope("user-" + i);
            scope.GetAgent<PlainAgent>();
        }

        Assert.Single(seen);
        Assert.Equal(1, host.Monitor.TotalViolations);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Name == "MonitorHandlerFailed");
    }

    [Fact]
    public void Instruments_HaveNamesUnitsAndDescriptions()
    {
        using var provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var meter = provider.GetRequiredService<IsolationMonitor>().Metrics.Meter;
        var seen = new Dictionary<string, (string? Unit, string? Description)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    seen[instrument.Name] = (instrument.Unit, instrument.Description);
                }
            },
        };
        listener.Start();

        Assert.Equal("Isolation", meter.Name);
        Assert.Equal("{scope}", seen[IsolationTelemetry.ScopeActive].Unit);
        Assert.Equal("s", seen[IsolationTelemetry.ScopeDuration].Unit);
        Assert.Equal("s", seen[IsolationTelemetry.AgentCreationDuration].Unit);
        Assert.Equal("{violation}", seen[IsolationTelemetry.Violations].Unit);
        Assert.Equal("1", seen[IsolationTelemetry.Score].Unit);
        Assert.All(seen.Values, v => Assert.False(string.IsNullOrWhiteSpace(v.Description)));
    }
}
