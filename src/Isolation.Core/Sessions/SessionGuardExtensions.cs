using System.Data.Common;
using Isolation.Internal;

namespace Isolation;

/// <summary>Extensions of <see cref="SessionGuard{TSession}"/>.</summary>
public static class SessionGuardExtensions
{
    /// <summary>
    /// Returns the guarded connection of a <see cref="DbConnection"/> session: a <see cref="DbConnection"/> whose commands
    /// and transactions check the guard (scope, concurrent use, disposal) each time they execute, so existing ADO.NET and
    /// Dapper code runs on it unchanged and still gets the checks. The same instance is returned on every call.
    /// </summary>
    /// <typeparam name="TConnection">The provider's connection type.</typeparam>
    /// <param name="guard">The guard of the session.</param>
    /// <returns>The guarded connection. Disposing it disposes <paramref name="guard"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="guard"/> is null.</exception>
    /// <example>
    /// <code>
    /// await using var session = await scope.OpenSessionAsync&lt;NpgsqlConnection&gt;(ct);
    /// var db = session.AsDbConnection();
    /// var orders = await db.QueryAsync&lt;Order&gt;("SELECT * FROM orders WHERE user_id = @userId", new { userId });
    /// </code>
    /// </example>
    public static GuardedDbConnection AsDbConnection<TConnection>(this SessionGuard<TConnection> guard)
        where TConnection : DbConnection
    {
        Guard.NotNull(guard);
        return guard.GetGuardedConnection(guard.RawSession);
    }
}
