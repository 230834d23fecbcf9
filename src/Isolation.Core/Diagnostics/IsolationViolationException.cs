namespace Isolation;

/// <summary>
/// Thrown in <see cref="IsolationMode.Enforce"/> when code breaks isolation: uses a resource of another scope, uses it
/// concurrently, after disposal or after it went back to its pool, or shares one agent between scopes.
/// </summary>
public sealed class IsolationViolationException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public IsolationViolationException()
        : this("An isolation violation occurred.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened and how to fix it.</param>
    public IsolationViolationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What happened and how to fix it.</param>
    /// <param name="innerException">The cause.</param>
    public IsolationViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal IsolationViolationException(IsolationViolation violation)
        : base(violation.Message)
    {
        Violation = violation;
        Kind = violation.Kind;
    }

    /// <summary>Gets the kind of violation.</summary>
    public ViolationKind Kind { get; }

    /// <summary>Gets the full violation record, when the exception was raised by the library.</summary>
    public IsolationViolation? Violation { get; }
}
