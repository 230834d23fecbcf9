namespace Isolation;

/// <summary>Names of the meter, activity source, instruments and tags the library publishes. See <c>docs/observability.md</c>.</summary>
public static class IsolationTelemetry
{
    /// <summary>The name of the meter: <c>Isolation</c>.</summary>
    public const string MeterName = "Isolation";

    /// <summary>The name of the activity source: <c>Isolation</c>. Each scope is a span named <see cref="ScopeActivityName"/>.</summary>
    public const string ActivitySourceName = "Isolation";

    /// <summary>The name of the span of one isolation scope: <c>isolation.scope</c>.</summary>
    public const string ScopeActivityName = "isolation.scope";

    /// <summary>The name of the span event added for each violation: <c>isolation.violation</c>.</summary>
    public const string ViolationEventName = "isolation.violation";

    /// <summary>Number of isolation scopes currently alive (up-down counter).</summary>
    public const string ScopeActive = "isolation.scope.active";

    /// <summary>How long isolation scopes lived, in seconds (histogram), tagged with <see cref="RunStatusTag"/>.</summary>
    public const string ScopeDuration = "isolation.scope.duration";

    /// <summary>How long creating one agent took, in seconds (histogram), tagged with <see cref="AgentTypeTag"/> and <see cref="AgentPooledTag"/>.</summary>
    public const string AgentCreationDuration = "isolation.agent.creation.duration";

    /// <summary>How long acquiring a session took, in seconds (histogram), tagged with <see cref="SessionTypeTag"/>.</summary>
    public const string SessionAcquireDuration = "isolation.session.acquire.duration";

    /// <summary>Number of sessions currently open (up-down counter), tagged with <see cref="SessionTypeTag"/>.</summary>
    public const string SessionActive = "isolation.session.active";

    /// <summary>Isolation violations and leaks detected (counter), tagged with <see cref="ViolationKindTag"/>.</summary>
    public const string Violations = "isolation.violations";

    /// <summary>Observable gauge: runs abandoned by the runner whose work has not returned (nor been given up) yet.</summary>
    public const string RunsAbandoned = "isolation.runs.abandoned";

    /// <summary>Finished runs (counter), tagged with <see cref="RunStatusTag"/>.</summary>
    public const string Runs = "isolation.runs";

    /// <summary>Events that were not delivered (counter), tagged with <see cref="DropReasonTag"/>.</summary>
    public const string EventsDropped = "isolation.events.dropped";

    /// <summary>Event connections refused instead of registered (counter), tagged with <see cref="DropReasonTag"/> (<c>connection_limit</c>).</summary>
    public const string ConnectionsRefused = "isolation.connections.refused";

    /// <summary>Share of finished scopes that had no violation, from 0 to 1 (observable gauge).</summary>
    public const string Score = "isolation.score";

    /// <summary>Counter <c>isolation.scopes.finished</c>: scopes that ended (the score's denominator, for windowed scores).</summary>
    public const string ScopesFinished = "isolation.scopes.finished";

    /// <summary>Counter <c>isolation.scopes.violated</c>: scopes counted as violated, at their end or when found later.</summary>
    public const string ScopesViolated = "isolation.scopes.violated";

    /// <summary>Tag: how a run or scope ended (<c>completed</c>, <c>failed</c>, <c>timed_out</c>, <c>cancelled</c>, <c>rejected</c>).</summary>
    public const string RunStatusTag = "isolation.run.status";

    /// <summary>Tag: the agent's type name.</summary>
    public const string AgentTypeTag = "isolation.agent.type";

    /// <summary>Tag: whether the agent came from a pool (<c>true</c>/<c>false</c>).</summary>
    public const string AgentPooledTag = "isolation.agent.pooled";

    /// <summary>Tag: the session's type name.</summary>
    public const string SessionTypeTag = "isolation.session.type";

    /// <summary>Tag: the violation kind, see <see cref="ViolationKindExtensions.ToTagValue"/>.</summary>
    public const string ViolationKindTag = "isolation.violation.kind";

    /// <summary>Tag: why an event was dropped.</summary>
    public const string DropReasonTag = "reason";

    /// <summary>Span tag: the run id of the scope's <see cref="UserExecutionContext"/>.</summary>
    public const string RunIdTag = "isolation.run.id";

    /// <summary>Span tag: the isolation mode of the scope.</summary>
    public const string ModeTag = "isolation.mode";

    /// <summary>Span tag: the user the scope belongs to (OpenTelemetry's <c>enduser.id</c>). Spans only, never metrics.</summary>
    public const string UserIdTag = "enduser.id";

    /// <summary>Span event tag: the resource type involved in a violation.</summary>
    public const string ResourceTypeTag = "isolation.resource.type";
}
