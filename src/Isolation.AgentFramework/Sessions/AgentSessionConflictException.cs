namespace Isolation.AgentFramework;

/// <summary>
/// A session could not be saved because the stored conversation changed since it was loaded (another run saved it first:
/// optimistic concurrency), or because a conversation with that id is already stored by someone else.
/// Reload the conversation and run again; never overwrite.
/// </summary>
public sealed class AgentSessionConflictException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="AgentSessionConflictException"/> class.</summary>
    public AgentSessionConflictException()
        : this("The agent session could not be saved: the stored conversation changed since it was loaded.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AgentSessionConflictException"/> class with a message.</summary>
    /// <param name="message">What conflicted and how to resolve it.</param>
    public AgentSessionConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AgentSessionConflictException"/> class with a message and a cause.</summary>
    /// <param name="message">What conflicted and how to resolve it.</param>
    /// <param name="innerException">The cause.</param>
    public AgentSessionConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the session id of the conversation, when known.</summary>
    public string? SessionId { get; init; }

    /// <summary>Gets the version the session was loaded at (0 for a session never loaded from the store).</summary>
    public long ExpectedVersion { get; init; }
}
