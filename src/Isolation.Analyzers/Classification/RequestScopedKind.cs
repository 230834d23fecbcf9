namespace Isolation.Analyzers.Classification;

/// <summary>What a type is, for the rules: an agent, a session (connection, DbContext, agent session, conversation), or neither.</summary>
internal enum RequestScopedKind
{
    None = 0,
    Agent = 1,
    Session = 2,
}
