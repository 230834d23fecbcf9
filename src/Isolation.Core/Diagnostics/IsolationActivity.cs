using System.Diagnostics;

namespace Isolation.Diagnostics;

/// <summary>The library's <see cref="ActivitySource"/>: one span per scope, violations as span events.</summary>
internal static class IsolationActivity
{
    public static readonly ActivitySource Source = new(
        IsolationTelemetry.ActivitySourceName,
        typeof(IsolationActivity).Assembly.GetName().Version?.ToString());

    /// <summary>Starts the span of a scope, child of the current activity (the incoming request's), or null without listeners.</summary>
    public static Activity? StartScope(UserExecutionContext context, IsolationMode mode)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(IsolationTelemetry.ScopeActivityName, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(IsolationTelemetry.UserIdTag, context.UserId);
            activity.SetTag(IsolationTelemetry.RunIdTag, context.RunId);
            activity.SetTag(IsolationTelemetry.ModeTag, ModeName(mode));
        }

        return activity;
    }

    /// <summary>Ends the span with the scope's status: errors for failures and timeouts.</summary>
    public static void StopScope(Activity activity, string status)
    {
        activity.SetTag(IsolationTelemetry.RunStatusTag, status);
        switch (status)
        {
            case ScopeStatus.Failed:
            case ScopeStatus.TimedOut:
                activity.SetStatus(ActivityStatusCode.Error, status);
                break;
            case ScopeStatus.Completed:
                activity.SetStatus(ActivityStatusCode.Ok);
                break;
        }

        activity.Stop();
    }

    /// <summary>Adds a violation to a span as an event. The message is not added: span events may be exported where payload-free ids are the limit.</summary>
    public static void AddViolation(Activity activity, IsolationViolation violation)
    {
        if (!activity.IsAllDataRequested)
        {
            return;
        }

        activity.AddEvent(new ActivityEvent(
            IsolationTelemetry.ViolationEventName,
            tags: new ActivityTagsCollection
            {
                { IsolationTelemetry.ViolationKindTag, violation.Kind.ToTagValue() },
                { IsolationTelemetry.ResourceTypeTag, violation.ResourceType },
            }));
    }

    private static string ModeName(IsolationMode mode) => mode switch
    {
        IsolationMode.Off => "off",
        IsolationMode.Observe => "observe",
        _ => "enforce",
    };
}
