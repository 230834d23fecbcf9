using System.Globalization;
using Isolation.Internal;

namespace Isolation;

/// <summary>
/// Who a unit of work belongs to: the user, and optionally the connection, run and conversation thread.
/// Immutable; every isolation scope carries exactly one.
/// </summary>
/// <example>
/// <code>
/// var context = new UserExecutionContext(userId: "alice", connectionId: socketId, threadId: "thread-42");
/// await using var scope = scopeFactory.CreateScope(context, deadline: TimeSpan.FromSeconds(30));
/// </code>
/// </example>
public sealed class UserExecutionContext : IEquatable<UserExecutionContext>
{
    /// <summary>The longest identifier accepted, in characters.</summary>
    public const int MaxIdLength = 256;

    /// <summary>Creates a context for one unit of work of <paramref name="userId"/>.</summary>
    /// <param name="userId">The user the work belongs to. Required: never empty or white space.</param>
    /// <param name="connectionId">The connection the work came from, when there is one.</param>
    /// <param name="runId">The run's identifier; a new one is generated when omitted.</param>
    /// <param name="threadId">The conversation thread, when there is one.</param>
    /// <exception cref="ArgumentException">An identifier is empty, white space, too long or holds control characters.</exception>
    public UserExecutionContext(string userId, string? connectionId = null, string? runId = null, string? threadId = null)
    {
        UserId = ValidateRequired(userId, nameof(userId));
        ConnectionId = ValidateOptional(connectionId, nameof(connectionId));
        RunId = runId is null ? NewRunId() : ValidateRequired(runId, nameof(runId));
        ThreadId = ValidateOptional(threadId, nameof(threadId));
    }

    /// <summary>Gets the user the work belongs to.</summary>
    public string UserId { get; }

    /// <summary>Gets the connection the work came from, or <see langword="null"/>.</summary>
    public string? ConnectionId { get; }

    /// <summary>Gets the run's identifier (generated when not given).</summary>
    public string RunId { get; }

    /// <summary>Gets the conversation thread, or <see langword="null"/>.</summary>
    public string? ThreadId { get; }

    /// <summary>Returns a copy of this context for a new run of the same user, connection and thread.</summary>
    /// <param name="runId">The new run's identifier; generated when omitted.</param>
    /// <returns>A new context.</returns>
    public UserExecutionContext WithRunId(string? runId = null) => new(UserId, ConnectionId, runId, ThreadId);

    /// <inheritdoc />
    public bool Equals(UserExecutionContext? other) =>
        other is not null &&
        string.Equals(UserId, other.UserId, StringComparison.Ordinal) &&
        string.Equals(ConnectionId, other.ConnectionId, StringComparison.Ordinal) &&
        string.Equals(RunId, other.RunId, StringComparison.Ordinal) &&
        string.Equals(ThreadId, other.ThreadId, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as UserExecutionContext);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        StringComparer.Ordinal.GetHashCode(UserId),
        ConnectionId is null ? 0 : StringComparer.Ordinal.GetHashCode(ConnectionId),
        StringComparer.Ordinal.GetHashCode(RunId));

    /// <summary>Returns a short description for logs and messages: user, run and connection. Never a payload.</summary>
    /// <returns>For example <c>user 'alice' (run 3f2a…, connection c-1)</c>.</returns>
    public override string ToString() => ConnectionId is null
        ? string.Format(CultureInfo.InvariantCulture, "user '{0}' (run {1})", UserId, RunId)
        : string.Format(CultureInfo.InvariantCulture, "user '{0}' (run {1}, connection {2})", UserId, RunId, ConnectionId);

    private static string NewRunId() => RunIds.New();

    private static string ValidateRequired(string? value, string name)
    {
        if (value is null)
        {
            ThrowHelper.ThrowArgumentNull(name);
        }

        if (value.Length == 0 || string.IsNullOrWhiteSpace(value))
        {
            ThrowHelper.ThrowArgument(
                $"The {name} must not be empty or white space. Every unit of work belongs to an identified user; pass the authenticated user's id instead of a placeholder such as \"anonymous\".",
                name);
        }

        return ValidateShape(value, name);
    }

    private static string? ValidateOptional(string? value, string name)
    {
        if (value is null)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            ThrowHelper.ThrowArgument($"The {name} must be null or a non-empty identifier; it was empty or white space.", name);
        }

        return ValidateShape(value, name);
    }

    private static string ValidateShape(string value, string name)
    {
        if (value.Length > MaxIdLength)
        {
            ThrowHelper.ThrowArgument(
                $"The {name} is {value.Length} characters long; at most {MaxIdLength} are accepted. Use a stable identifier (a key or hash), not a payload.",
                name);
        }

        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                ThrowHelper.ThrowArgument(
                    $"The {name} contains a control character (U+{(int)c:X4}); identifiers end up in logs and event envelopes and must be printable.",
                    name);
            }
        }

        return value;
    }
}
