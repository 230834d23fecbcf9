namespace Isolation;

/// <summary>The non-generic face of <see cref="SessionGuard{TSession}"/> used by <see cref="SessionAccess"/> and the guarded ADO.NET wrappers.</summary>
internal interface ISessionGuard
{
    /// <summary>Gets the session type's name, for messages.</summary>
    string SessionType { get; }

    /// <summary>Checks an operation that runs on the session and marks the session busy until the returned access is disposed.</summary>
    SessionAccess EnterOperation(string operation);

    /// <summary>Checks a use that does not run anything on the session (no concurrency check).</summary>
    void CheckAccess(string operation);

    /// <summary>Ends the operation entered by <see cref="EnterOperation"/>.</summary>
    void Exit();

    /// <summary>Releases the session back to its pool, synchronously.</summary>
    void Dispose();

    /// <summary>Releases the session back to its pool.</summary>
    ValueTask DisposeAsync();
}
