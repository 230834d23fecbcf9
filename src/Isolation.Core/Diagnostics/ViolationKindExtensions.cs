namespace Isolation;

/// <summary>Conversions for <see cref="ViolationKind"/>.</summary>
public static class ViolationKindExtensions
{
    /// <summary>Returns the stable snake_case value used for the <c>isolation.violation.kind</c> tag, e.g. <c>cross_scope_access</c>.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The tag value.</returns>
    public static string ToTagValue(this ViolationKind kind) => kind switch
    {
        ViolationKind.CrossScopeAccess => "cross_scope_access",
        ViolationKind.ConcurrentUse => "concurrent_use",
        ViolationKind.UseAfterDispose => "use_after_dispose",
        ViolationKind.UseAfterReturn => "use_after_return",
        ViolationKind.EventLeak => "event_leak",
        ViolationKind.SingletonReuse => "singleton_reuse",
        ViolationKind.SessionLeak => "session_leak",
        ViolationKind.AgentLeak => "agent_leak",
        ViolationKind.ScopeLeak => "scope_leak",
        ViolationKind.UnownedAgent => "unowned_agent",
        _ => "unknown",
    };

    /// <summary>Returns whether the kind is a leak (found when a scope ends or after a garbage collection) rather than a misuse at a call.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns><see langword="true"/> for <see cref="ViolationKind.SessionLeak"/>, <see cref="ViolationKind.AgentLeak"/> and <see cref="ViolationKind.ScopeLeak"/>.</returns>
    public static bool IsLeak(this ViolationKind kind) =>
        kind is ViolationKind.SessionLeak or ViolationKind.AgentLeak or ViolationKind.ScopeLeak;
}
