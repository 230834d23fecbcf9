namespace Isolation;

/// <summary>One detected isolation violation or leak, as reported to logs, metrics and <see cref="IsolationMonitor"/> events.</summary>
public sealed class IsolationViolation
{
    /// <summary>
    /// Creates a violation to report through <see cref="IsolationScope.ReportViolation"/> or
    /// <see cref="IsolationMonitor.ReportViolation"/>: for integrations and application checks that find a breach the
    /// library cannot see by itself (an EF Core context used from another scope, a conversation loaded by its non-owner).
    /// </summary>
    /// <param name="kind">What kind of violation it is.</param>
    /// <param name="resourceType">The full name of the type of the resource involved.</param>
    /// <param name="message">What happened and how to fix it. Never put payloads, SQL parameters or message text here.</param>
    /// <param name="context">The context the resource belongs to, when known.</param>
    /// <param name="otherContext">The other context involved (the one that touched a resource it does not own), when there is one.</param>
    /// <exception cref="ArgumentException"><paramref name="resourceType"/> or <paramref name="message"/> is empty, or <paramref name="kind"/> is not defined.</exception>
    public IsolationViolation(
        ViolationKind kind,
        string resourceType,
        string message,
        UserExecutionContext? context = null,
        UserExecutionContext? otherContext = null)
        : this(kind, ValidateText(resourceType, nameof(resourceType)), ValidateText(message, nameof(message)), context, otherContext, creationStackTrace: null)
    {
        if (!Enum.IsDefined(kind))
        {
            Internal.ThrowHelper.ThrowArgument(
                $"{(int)kind} is not a ViolationKind. Use one of: {string.Join(", ", Enum.GetNames<ViolationKind>())}.",
                nameof(kind));
        }
    }

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

    private static string ValidateText(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Internal.ThrowHelper.ThrowArgument(
                $"The {name} of a violation must not be null, empty or white space: operators read it in logs and alerts. Name the resource type and say what happened.",
                name);
        }

        return value;
    }
}
