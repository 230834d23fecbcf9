using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers;

/// <summary>Every rule's descriptor. Titles equal the <c># ISOnnn - Title</c> heading of the rule's documentation page.</summary>
internal static class Descriptors
{
    /// <summary>Where the rule pages live; the one place to change when the repository moves.</summary>
    public const string HelpLinkBase = "https://github.com/isolation-dotnet/isolation/blob/main/docs/rules/";

    private const string Category = "Isolation";

    public static readonly DiagnosticDescriptor ISO001AgentRegisteredAsSingleton = Create(
        RuleIdentifiers.AgentRegisteredAsSingleton,
        "Agent registered with singleton lifetime",
        "Agent type '{0}' is registered as a singleton, so every user shares one instance and its state; register it with AddIsolatedAgent<{1}>() or a scoped lifetime",
        DiagnosticSeverity.Error,
        "An agent holds per-request state. Registered as a singleton (or as an existing instance), one user's conversation, failure or poisoned state reaches every other user.");

    public static readonly DiagnosticDescriptor ISO002AgentInStaticMember = Create(
        RuleIdentifiers.AgentInStaticMember,
        "Agent held in a static member",
        "Static {0} '{1}' holds agent type '{2}', which is then shared by every request; create agents per request through IsolationScope.GetAgent<T>()",
        DiagnosticSeverity.Error,
        "A static field or property lives for the whole process. An agent (or a collection, Lazy or Task of agents) kept there is shared by every user.");

    public static readonly DiagnosticDescriptor ISO003RequestStateInSingleton = Create(
        RuleIdentifiers.RequestStateInSingleton,
        "Agent or session held by a singleton",
        "'{0}' has singleton lifetime ({1}) and its {2} '{3}' holds {4} '{5}', which then outlives the request and is shared by every user; resolve it per request from an IsolationScope or a factory instead",
        DiagnosticSeverity.Error,
        "A singleton, hosted service or middleware lives for the whole process. An agent or session it keeps in a field, or in a registry/cache collection, is shared by every user.",
        WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor ISO004AgentCreatedWithNew = Create(
        RuleIdentifiers.AgentCreatedWithNew,
        "Agent created with new outside a factory",
        "Agent type '{0}' is created with 'new', so no scope owns it and nothing disposes or checks it; resolve it through IAgentFactory<{0}> or IsolationScope.GetAgent<{0}>()",
        DiagnosticSeverity.Warning,
        "An agent created with new is owned by no isolation scope: it is not disposed with the request, not leak-checked, and easy to store somewhere long-lived.");

    public static readonly DiagnosticDescriptor ISO005MutableStaticStateInHandler = Create(
        RuleIdentifiers.MutableStaticStateInHandler,
        "Mutable static state in a per-request type",
        "'{0}' is a per-request type ({1}) but its static {2} '{3}' is {4}, which every request shares; keep request state in instance members or a scoped service",
        DiagnosticSeverity.Error,
        "Agents, SignalR hubs, controllers and page models are created per request. Static mutable state in them is the one thing every request shares.");

    public static readonly DiagnosticDescriptor ISO101SessionRegisteredAsSingleton = Create(
        RuleIdentifiers.SessionRegisteredAsSingleton,
        "Session registered with singleton lifetime",
        "Session type '{0}' is registered as a singleton, so every user shares one connection or conversation; register it as scoped or use AddIsolatedSession",
        DiagnosticSeverity.Error,
        "A database connection, DbContext, transaction or agent session is not thread-safe and belongs to one request. As a singleton it is used by every user at once.");

    public static readonly DiagnosticDescriptor ISO102SessionInStaticMember = Create(
        RuleIdentifiers.SessionInStaticMember,
        "Session held in a static member",
        "Static {0} '{1}' holds session type '{2}', which is then shared by every request; open sessions per request and dispose them",
        DiagnosticSeverity.Error,
        "A static field or property lives for the whole process. A connection, DbContext, agent session or conversation kept there is shared by every user.");

    public static readonly DiagnosticDescriptor ISO103SessionNotDisposed = Create(
        RuleIdentifiers.SessionNotDisposed,
        "Session not disposed",
        "Session '{0}' of type '{1}' is created here but never disposed; declare it with '{2}'",
        DiagnosticSeverity.Warning,
        "A connection or DbContext that is never disposed keeps its pooled connection until the garbage collector finds it; under load the pool runs dry and every user waits.");

    public static readonly DiagnosticDescriptor ISO104SessionCapturedByFireAndForget = Create(
        RuleIdentifiers.SessionCapturedByFireAndForget,
        "Session used by fire-and-forget work",
        "Session '{0}' of type '{1}' is used by work that is not awaited ({2}), so it runs after the request ended and its session was disposed; await the work, or open a new session inside it",
        DiagnosticSeverity.Warning,
        "Work started with Task.Run, ThreadPool.QueueUserWorkItem or a discarded task outlives the request. A request's session used there is disposed under it, or used concurrently with the next request.");

    public static readonly DiagnosticDescriptor ISO201AgentEventBroadcast = Create(
        RuleIdentifiers.AgentEventBroadcast,
        "Agent event broadcast to every connection",
        "Agent type '{0}' sends an event to every connection ({1}), so every user sees this user's agent events; emit it through the scope's IAgentEventEmitter (scope.Events.EmitAsync)",
        DiagnosticSeverity.Error,
        "Agent events belong to the user whose request produced them. A broadcast to every WebSocket or SignalR client sends one user's agent output to everybody.",
        WellKnownDiagnosticTags.CompilationEnd);

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity, string description, params string[] tags)
        => new(id, title, message, Category, severity, isEnabledByDefault: true, description, HelpLinkBase + id + ".md", tags);
}
