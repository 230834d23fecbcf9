namespace Isolation;

/// <summary>The kinds of isolation violation. Each has a stable tag value used in metrics and logs (see <see cref="ViolationKindExtensions.ToTagValue"/>).</summary>
public enum ViolationKind
{
    /// <summary>A resource bound to one scope was used from another scope (<c>cross_scope_access</c>).</summary>
    CrossScopeAccess = 0,

    /// <summary>Two flows used one resource at the same time (<c>concurrent_use</c>).</summary>
    ConcurrentUse = 1,

    /// <summary>A resource was used after it or its scope was disposed (<c>use_after_dispose</c>).</summary>
    UseAfterDispose = 2,

    /// <summary>A pooled resource was used through a reference kept after it went back to its pool (<c>use_after_return</c>).</summary>
    UseAfterReturn = 3,

    /// <summary>An event addressed to one user reached, or was about to reach, another user's connection (<c>event_leak</c>).</summary>
    EventLeak = 4,

    /// <summary>The same agent instance was handed to two scopes: it is shared like a singleton (<c>singleton_reuse</c>).</summary>
    SingletonReuse = 5,

    /// <summary>A session was still open when its scope ended (<c>session_leak</c>).</summary>
    SessionLeak = 6,

    /// <summary>An agent was still reachable after its scope ended, retained by a static or singleton (<c>agent_leak</c>).</summary>
    AgentLeak = 7,

    /// <summary>A scope was never disposed (<c>scope_leak</c>).</summary>
    ScopeLeak = 8,

    /// <summary>
    /// An <see cref="IsolatedAgent"/> that no scope ever handed out (created with <c>new</c>, the mistake ISO004 warns about)
    /// was used inside an isolation scope (<c>unowned_agent</c>).
    /// </summary>
    UnownedAgent = 9,
}
