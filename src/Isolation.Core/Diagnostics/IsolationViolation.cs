namespace Isolation;

/// <summary>One detected isolation violation or leak, as reported to logs, metrics and <see cref="IsolationMonitor"/> events.</summary>
public sealed class IsolationViolation
{
    internal IsolationViolation(
        ViolationKind kind,
        string resourceType,
        string message,
        UserExecutionContext? context,
        UserExecutionContext? otherContext,
        string? creationStackTrace)
    {
        Kind = kind;
        ResourceType = resourceType;
        Message = message;
        Context = context;
        OtherContext = otherContext;
        CreationStackTrace = creationStackTrace;
    }

    /// <summary>Gets what kind of violation this is.</summary>
    public ViolationKind Kind { get; }

    /// <summary>Gets the full name of the type of the resource involved (agent, session, scope…).</summary>
    public string ResourceType { get; }

    /// <summary>Gets the human-readable description: what happened, which contexts were involved and how to fix it. Never contains payloads.</summary>
    public string Message { get; }

    /// <summary>Gets the context the resource belongs to, when known.</summary>
    public UserExecutionContext? Context { get; }

    /// <summary>Gets the other context involved (the one that touched a resource it does not own), when there is one.</summary>
    public UserExecutionContext? OtherContext { get; }

    /// <summary>Gets where the resource was created; only with <see cref="LeakDetectionLevel.Paranoid"/>.</summary>
    public string? CreationStackTrace { get; }

    /// <inheritdoc />
    public override string ToString() => Kind.ToTagValue() + ": " + Message;
}
