using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers;

/// <summary>Every rule's descriptor. Titles equal the <c># ISOnnn - Title</c> heading of the rule's documentation page.</summary>
internal static class Descriptors
{
    /// <summary>Where the rule pages live: generated from <c>RulesDocumentationUrl</c> in <c>Directory.Build.props</c>.</summary>
    public const string HelpLinkBase = HelpLinks.RulesBase;

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

    private const string ISO003Title = "Agent or session held by a singleton";
    private const string ISO003Message = "'{0}' has singleton lifetime ({1}) and its {2} '{3}' holds {4} '{5}', which then outlives the request and is shared by every user; resolve it per request from an IsolationScope or a factory instead";
    private const string ISO003Description = "A singleton, hosted service or middleware lives for the whole process. An agent or session it keeps in a field, or in a registry/cache collection, is shared by every user.";

    /// <summary>ISO003 where the type is singleton by itself (hosted service, middleware, configured): reported live, with the type.</summary>
    public static readonly DiagnosticDescriptor ISO003RequestStateInSingleton = Create(
        RuleIdentifiers.RequestStateInSingleton, ISO003Title, ISO003Message, DiagnosticSeverity.Error, ISO003Description);

    /// <summary>ISO003 where a registration anywhere in the compilation makes the type singleton: known only at compilation end.</summary>
    public static readonly DiagnosticDescriptor ISO003RequestStateInRegisteredSingleton = Create(
        RuleIdentifiers.RequestStateInSingleton, ISO003Title, ISO003Message, DiagnosticSeverity.Error, ISO003Description, WellKnownDiagnosticTags.CompilationEnd);

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

    private const string ISO006Title = "Collection shared by a singleton written on request paths";
    private const string ISO006Message = "'{0}' has singleton lifetime ({1}) and its {2} '{3}' is written by '{4}' without a lock, so concurrent requests corrupt it and one user's data reaches the next; keep per-user state in a scoped service or keyed by user in a concurrent collection, or lock around every access";
    private const string ISO006Description = "A singleton, hosted service or middleware serves every request at once. A List, Dictionary, HashSet or Queue it keeps and requests write is shared by all users and not thread-safe.";

    /// <summary>ISO006 where the type is singleton by itself: reported when the type has been analysed.</summary>
    public static readonly DiagnosticDescriptor ISO006SharedCollectionInSingleton = Create(
        RuleIdentifiers.SharedCollectionInSingleton, ISO006Title, ISO006Message, DiagnosticSeverity.Error, ISO006Description);

    /// <summary>ISO006 where a registration makes the type singleton: known only at compilation end.</summary>
    public static readonly DiagnosticDescriptor ISO006SharedCollectionInRegisteredSingleton = Create(
        RuleIdentifiers.SharedCollectionInSingleton, ISO006Title, ISO006Message, DiagnosticSeverity.Error, ISO006Description, WellKnownDiagnosticTags.CompilationEnd);

    private const string ISO007Title = "Field of a singleton assigned on request paths";
    private const string ISO007Message = "'{0}' has singleton lifetime ({1}) and its field '{2}' is assigned by '{3}' without a lock, so one request's value is seen by every other request; keep request state in locals or a scoped service, or make the field readonly and set it in the constructor";
    private const string ISO007Description = "A singleton serves every request at once. A field assigned outside the constructor by a method requests call is last-writer-wins state shared by all users.";

    /// <summary>ISO007 where the type is singleton by itself.</summary>
    public static readonly DiagnosticDescriptor ISO007MutableFieldInSingleton = Create(
        RuleIdentifiers.MutableFieldInSingleton, ISO007Title, ISO007Message, DiagnosticSeverity.Warning, ISO007Description);

    /// <summary>ISO007 where a registration makes the type singleton: known only at compilation end.</summary>
    public static readonly DiagnosticDescriptor ISO007MutableFieldInRegisteredSingleton = Create(
        RuleIdentifiers.MutableFieldInSingleton, ISO007Title, ISO007Message, DiagnosticSeverity.Warning, ISO007Description, WellKnownDiagnosticTags.CompilationEnd);

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

    /// <summary>ISO103 for a session a type creates into its own field and never disposes.</summary>
    public static readonly DiagnosticDescriptor ISO103SessionFieldNotDisposed = Create(
        RuleIdentifiers.SessionNotDisposed,
        "Session not disposed",
        "Field '{0}' of type '{1}' holds a session that '{2}' creates but never disposes; {3}",
        DiagnosticSeverity.Warning,
        "A connection or DbContext that is never disposed keeps its pooled connection until the garbage collector finds it; under load the pool runs dry and every user waits.");

    public static readonly DiagnosticDescriptor ISO104SessionCapturedByFireAndForget = Create(
        RuleIdentifiers.SessionCapturedByFireAndForget,
        "Session used by fire-and-forget work",
        "Session '{0}' of type '{1}' is used by work that is not awaited ({2}), so it runs after the request ended and its session was disposed; await the work, or open a new session inside it",
        DiagnosticSeverity.Warning,
        "Work started with Task.Run, ThreadPool.QueueUserWorkItem or a discarded task outlives the request. A request's session used there is disposed under it, or used concurrently with the next request.");

    private const string ISO201Title = "Agent event broadcast to every connection";
    private const string ISO201Message = "{0} sends an agent event to every connection ({1}), so every user sees this user's agent output; emit it through the scope's IAgentEventEmitter (scope.Events.EmitAsync)";
    private const string ISO201Description = "Agent events belong to the user whose request produced them. A broadcast to every WebSocket or SignalR client sends one user's agent output to everybody.";

    /// <summary>ISO201 at a broadcast in an agent type, or a broadcast of an agent's output: reported live.</summary>
    public static readonly DiagnosticDescriptor ISO201AgentEventBroadcast = Create(
        RuleIdentifiers.AgentEventBroadcast, ISO201Title, ISO201Message, DiagnosticSeverity.Error, ISO201Description);

    /// <summary>ISO201 at a call to a method that broadcasts elsewhere: known only at compilation end.</summary>
    public static readonly DiagnosticDescriptor ISO201AgentEventBroadcastThroughCall = Create(
        RuleIdentifiers.AgentEventBroadcast, ISO201Title, ISO201Message, DiagnosticSeverity.Error, ISO201Description, WellKnownDiagnosticTags.CompilationEnd);

    private const string ISO201StreamMessage = "'{0}' has singleton lifetime ({1}) and its {2} '{3}' is one {4} of '{5}' (conversation messages that do not say whose they are) that '{6}' pushes into, so every subscriber receives every user's messages; keep one stream per user or conversation, or deliver through the scope's IAgentEventEmitter (scope.Events.EmitAsync)";

    /// <summary>ISO201 at a process-wide multicast stream of conversation messages in a type that is singleton by itself (or static).</summary>
    public static readonly DiagnosticDescriptor ISO201ConversationStreamInSingleton = Create(
        RuleIdentifiers.AgentEventBroadcast, ISO201Title, ISO201StreamMessage, DiagnosticSeverity.Error, ISO201Description);

    /// <summary>ISO201 at such a stream where a registration makes the type singleton: known only at compilation end.</summary>
    public static readonly DiagnosticDescriptor ISO201ConversationStreamInRegisteredSingleton = Create(
        RuleIdentifiers.AgentEventBroadcast, ISO201Title, ISO201StreamMessage, DiagnosticSeverity.Error, ISO201Description, WellKnownDiagnosticTags.CompilationEnd);

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity, string description, params string[] tags)
        => new(id, title, message, Category, severity, isEnabledByDefault: true, description, HelpLinkBase + id + ".md", tags);
}
