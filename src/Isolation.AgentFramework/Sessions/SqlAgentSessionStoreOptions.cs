namespace Isolation.AgentFramework;

/// <summary>Options of <see cref="SqlAgentSessionStore{TConnection}"/>.</summary>
public sealed class SqlAgentSessionStoreOptions
{
    internal const string DefaultTableName = "isolation_agent_sessions";

    /// <summary>Gets or sets the table that holds the sessions: letters, digits and underscores, starting with a letter or underscore, at most 63 characters.</summary>
    /// <value>The default value is <c>isolation_agent_sessions</c>.</value>
    public string TableName { get; set; } = DefaultTableName;
}
