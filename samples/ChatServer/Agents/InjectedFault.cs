namespace ChatServer.Agents;

/// <summary>A failure a chat message asks for with a marker, when <c>Chat:FaultInjection</c> is on. Applied at the first tool call.</summary>
public enum InjectedFault
{
    None,

    /// <summary><c>#fail</c>: the tool throws.</summary>
    Exception,

    /// <summary><c>#dberror</c>: the tool runs SQL against a table that does not exist.</summary>
    DatabaseError,

    /// <summary><c>#hang</c>: the tool waits forever, but honours cancellation, so the run's deadline ends it.</summary>
    Hang,

    /// <summary><c>#stuck</c>: the tool ignores cancellation for a while (bounded), so the runner abandons the work at the deadline.</summary>
    Stuck,

    /// <summary><c>#slow</c>: the tool takes <see cref="InjectedFaults.SlowToolDelay"/>; the run still completes.</summary>
    Slow,
}
