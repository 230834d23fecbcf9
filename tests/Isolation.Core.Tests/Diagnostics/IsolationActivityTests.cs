using System.Diagnostics;
using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Diagnostics;

public sealed class IsolationActivityTests : IDisposable
{
    private readonly List<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public IsolationActivityTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == IsolationTelemetry.ActivitySourceName || source.Name == "Test.Requests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (_stopped)
                {
                    _stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Scope_UnderRequestActivity_IsChildSpanWithTagsAndOkStatus()
    {
        using var requests = new ActivitySource("Test.Requests");
        await using var host = TestHost.Create();
        var runId = Guid.NewGuid().ToString("N");
        using var request = requests.StartActivity("POST /chat")!;

        await using (host.Scopes.CreateScope(new UserExecutionContext("alice", runId: runId)))
        {
            Assert.Equal(IsolationTelemetry.ScopeActivityName, Activity.Current!.OperationName);
        }

        Assert.Same(request, Activity.Current);
        var span = Single(runId);
        Assert.Equal(request.SpanId, span.ParentSpanId);
        Assert.Equal(request.TraceId, span.TraceId);
        Assert.Equal("alice", span.GetTagItem(IsolationTelemetry.UserIdTag));
        Assert.Equal("enforce", span.GetTagItem(IsolationTelemetry.ModeTag));
        Assert.Equal("completed", span.GetTagItem(IsolationTelemetry.RunStatusTag));
        Assert.Equal(ActivityStatusCode.Ok, span.Status);
    }

    [Fact]
    public async Task Scope_DeadlinePassed_SpanIsError()
    {
        await using var host = TestHost.Create();
        var runId = Guid.NewGuid().ToString("N");

        await using (host.Scopes.CreateScope(new UserExecutionContext("alice", runId: runId), TimeSpan.FromSeconds(1)))
        {
            host.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var span = Single(runId);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("timed_out", span.GetTagItem(IsolationTelemetry.RunStatusTag));
    }

    [Fact]
    public async Task Violation_InScope_IsSpanEventWithKindAndNoMessage()
    {
        var shared = new PlainAgent();
        await using var host = TestHost.Create(s => s.AddIsolatedAgent<PlainAgent>(_ => shared), o => o.Mode = IsolationMode.Observe);
        await using (var first = host.CreateScope("alice"))
        {
            first.GetAgent<PlainAgent>();
        }

        var runId = Guid.NewGuid().ToString("N");
        await using (var second = host.Scopes.CreateScope(new UserExecutionContext("bob", runId: runId)))
        {
            second.GetAgent<PlainAgent>();
        }

        var span = Single(runId);
        var violation = Assert.Single(span.Events);
        Assert.Equal(IsolationTelemetry.ViolationEventName, violation.Name);
        var tags = violation.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal("singleton_reuse", tags[IsolationTelemetry.ViolationKindTag]);
        Assert.Equal(typeof(PlainAgent).FullName, tags[IsolationTelemetry.ResourceTypeTag]);
        Assert.Equal(2, tags.Count);
    }

    private Activity Single(string runId)
    {
        lock (_stopped)
        {
            return Assert.Single(_stopped, a => (string?)a.GetTagItem(IsolationTelemetry.RunIdTag) == runId);
        }
    }
}
