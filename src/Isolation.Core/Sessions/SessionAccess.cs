using System.Diagnostics.CodeAnalysis;

namespace Isolation;

/// <summary>
/// One operation on a guarded session, from <see cref="SessionGuard{TSession}.Enter"/> until it is disposed. While it lasts,
/// another flow entering the same session is a <see cref="ViolationKind.ConcurrentUse"/>. A struct: entering and leaving allocate nothing.
/// </summary>
/// <example>
/// <code>
/// using (guard.Enter())
/// {
///     await guard.Session.SaveChangesAsync(ct);
/// }
/// </code>
/// </example>
[SuppressMessage("Performance", "CA1815:Override equals and operator equals on value types", Justification = "A using-block token, never compared.")]
public readonly struct SessionAccess : IDisposable
{
    private readonly ISessionGuard? _guard;

    internal SessionAccess(ISessionGuard guard) => _guard = guard;

    /// <summary>Ends the operation, so the session may be entered again. Dispose each access exactly once.</summary>
    public void Dispose() => _guard?.Exit();
}
