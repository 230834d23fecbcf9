using System.Globalization;

namespace Isolation;

/// <summary>
/// Thrown by <see cref="IsolationScope.OpenSessionAsync{TSession}"/> when every session of a pool was held for the whole
/// <see cref="IsolatedSessionOptions.AcquireTimeout"/>. Names the pool, its limit and how many sessions were held.
/// </summary>
/// <remarks>
/// Usually sessions are held too long (not disposed when the work is done, or held across slow calls such as a model
/// request), or the pool is smaller than the load. It is a <see cref="TimeoutException"/>, so existing timeout handling applies.
/// </remarks>
public sealed class SessionPoolExhaustedException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public SessionPoolExhaustedException()
        : this("A session pool was exhausted: no session was returned within the acquire timeout.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened and how to fix it.</param>
    public SessionPoolExhaustedException(string message)
        : base(message)
    {
        PoolName = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What happened and how to fix it.</param>
    /// <param name="innerException">The cause.</param>
    public SessionPoolExhaustedException(string message, Exception innerException)
        : base(message, innerException)
    {
        PoolName = string.Empty;
    }

    internal SessionPoolExhaustedException(string poolName, int maxSessions, int heldSessions, TimeSpan waited, UserExecutionContext context)
        : base(string.Format(
            CultureInfo.InvariantCulture,
            "Session pool '{0}' is exhausted: all {1} sessions were held ({2} held now) and none was returned within {3:0.###} s, so no session could be opened for {4}. Sessions are held too long or the pool is too small: dispose each SessionGuard as soon as its work is done ('await using var session = await scope.OpenSessionAsync<{5}>(ct)'), do not hold a session across slow calls, and size the pool with AddIsolatedSession<{5}>(factory, o => {{ o.MaxSessions = ...; o.AcquireTimeout = ...; }}) within the database's connection limit.",
            poolName,
            maxSessions,
            heldSessions,
            waited.TotalSeconds,
            context,
            ShortName(poolName)))
    {
        PoolName = poolName;
        MaxSessions = maxSessions;
        HeldSessions = heldSessions;
        WaitTime = waited;
    }

    /// <summary>Gets the name of the exhausted pool: the session type's full name.</summary>
    public string PoolName { get; }

    /// <summary>Gets the pool's limit, <see cref="IsolatedSessionOptions.MaxSessions"/>.</summary>
    public int MaxSessions { get; }

    /// <summary>Gets how many sessions were held when the wait gave up.</summary>
    public int HeldSessions { get; }

    /// <summary>Gets how long the caller waited for a session.</summary>
    public TimeSpan WaitTime { get; }

    private static string ShortName(string poolName)
    {
        var dot = poolName.LastIndexOf('.');
        return dot < 0 ? poolName : poolName.Substring(dot + 1);
    }
}
