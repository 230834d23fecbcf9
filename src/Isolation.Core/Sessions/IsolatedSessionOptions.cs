namespace Isolation;

/// <summary>
/// Options of one session type's pool, given to <c>services.AddIsolatedSession&lt;TSession&gt;(factory, o => …)</c>.
/// Validated when the pool is first used, or at host start.
/// </summary>
/// <example>
/// <code>
/// services.AddIsolatedSession&lt;NpgsqlConnection&gt;(OpenConnectionAsync, o =>
/// {
///     o.MaxSessions = 20;                          // at most 20 connections open at once, across all scopes
///     o.AcquireTimeout = TimeSpan.FromSeconds(5);  // then SessionPoolExhaustedException
/// });
/// </code>
/// </example>
public sealed class IsolatedSessionOptions
{
    internal const int DefaultMaxSessions = 100;
    internal const int MaxMaxSessions = 100_000;
    internal static readonly TimeSpan DefaultAcquireTimeout = TimeSpan.FromSeconds(15);
    internal static readonly TimeSpan MaxAcquireTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Gets or sets how many sessions of this type may be open at the same time, across all scopes (1 to 100,000).
    /// Keep it at or below what the database accepts (for a <c>DbConnection</c>, the provider's maximum pool size), so
    /// that exhaustion is reported here, with the pool's name and numbers, rather than as a provider timeout.
    /// </summary>
    /// <value>The default value is 100 (Npgsql's and SqlClient's default maximum pool size).</value>
    public int MaxSessions { get; set; } = DefaultMaxSessions;

    /// <summary>
    /// Gets or sets how long opening a session waits for a free slot when all <see cref="MaxSessions"/> are held, before
    /// it fails with <see cref="SessionPoolExhaustedException"/>. Positive and at most 10 minutes: there is no infinite wait.
    /// </summary>
    /// <value>The default value is 15 seconds (Npgsql's and SqlClient's default connection timeout).</value>
    public TimeSpan AcquireTimeout { get; set; } = DefaultAcquireTimeout;
}
