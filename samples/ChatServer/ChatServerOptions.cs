namespace ChatServer;

/// <summary>The sample's own settings, bound from the <c>Chat</c> configuration section.</summary>
public sealed class ChatServerOptions
{
    public const string SectionName = "Chat";

    /// <summary>Gets or sets the folder of the SQLite database (relative paths are under the content root).</summary>
    /// <value>The default value is <c>data</c>.</value>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Gets or sets how many database sessions may be open at once (the isolated session pool's size).</summary>
    /// <value>The default value is 16.</value>
    public int MaxDatabaseSessions { get; set; } = 16;

    /// <summary>Gets or sets how long the scripted model "thinks" per call, so the pages show each step.</summary>
    /// <value>The default value is 150 milliseconds.</value>
    public TimeSpan ModelLatency { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// Gets or sets a value indicating whether chat messages may carry fault markers (<c>#fail</c>, <c>#dberror</c>, <c>#hang</c>,
    /// <c>#stuck</c>, <c>#slow</c>) that make the pipeline fail on purpose. On for <c>simulate</c> and the tests.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool FaultInjection { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether <c>POST /api/diagnostics/violation</c> is mapped: it provokes a real
    /// <c>singleton_reuse</c> violation through a deliberately shared agent, for the dashboard's browser test and demos.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool ViolationProbe { get; set; }

    /// <summary>Gets or sets the longest chat message accepted, in characters.</summary>
    /// <value>The default value is 2,000.</value>
    public int MaxMessageLength { get; set; } = 2000;
}
