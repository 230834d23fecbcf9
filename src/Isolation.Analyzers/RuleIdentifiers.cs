namespace Isolation.Analyzers;

/// <summary>The diagnostic ids of every isolation rule, in one place. Documented in <c>docs/rules/ISOnnn.md</c>.</summary>
internal static class RuleIdentifiers
{
    public const string AgentRegisteredAsSingleton = "ISO001";
    public const string AgentInStaticMember = "ISO002";
    public const string RequestStateInSingleton = "ISO003";
    public const string AgentCreatedWithNew = "ISO004";
    public const string MutableStaticStateInHandler = "ISO005";
    public const string SharedCollectionInSingleton = "ISO006";
    public const string MutableFieldInSingleton = "ISO007";
    public const string SessionRegisteredAsSingleton = "ISO101";
    public const string SessionInStaticMember = "ISO102";
    public const string SessionNotDisposed = "ISO103";
    public const string SessionCapturedByFireAndForget = "ISO104";
    public const string AgentEventBroadcast = "ISO201";
}
