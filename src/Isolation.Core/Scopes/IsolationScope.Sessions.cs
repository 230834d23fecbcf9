using Isolation.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation;

/// <content>Sessions: open a guarded session from its type's bounded pool.</content>
public sealed partial class IsolationScope
{
    /// <summary>
    /// Opens a session of type <typeparamref name="TSession"/> for this scope, from its bounded pool: waits for a free slot
    /// at most <see cref="IsolatedSessionOptions.AcquireTimeout"/>, then creates the session with the registered factory.
    /// The returned guard is bound to this scope; dispose it when the work is done. A guard still open when the scope ends
    /// is reported as <see cref="ViolationKind.SessionLeak"/> and closed.
    /// </summary>
    /// <typeparam name="TSession">A session type registered with <c>services.AddIsolatedSession&lt;TSession&gt;(factory)</c>.</typeparam>
    /// <param name="cancellationToken">Cancels the wait and the creation; <see cref="Aborted"/> cancels them too.</param>
    /// <returns>The session's guard.</returns>
    /// <exception cref="ObjectDisposedException">The scope has been disposed.</exception>
    /// <exception cref="InvalidOperationException">No session pool is registered for <typeparamref name="TSession"/>, or its factory returned null.</exception>
    /// <exception cref="SessionPoolExhaustedException">No session was returned to the full pool within its acquire timeout.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> or <see cref="Aborted"/> was cancelled.</exception>
    /// <example>
    /// <code>
    /// await using var session = await scope.OpenSessionAsync&lt;NpgsqlConnection&gt;(ct);
    /// var db = session.AsDbConnection();
    /// await db.ExecuteAsync("INSERT INTO notes (user_id, text) VALUES (@u, @t)", new { u = scope.Context.UserId, t = text });
    /// </code>
    /// </example>
    public ValueTask<SessionGuard<TSession>> OpenSessionAsync<TSession>(CancellationToken cancellationToken = default)
        where TSession : class
    {
        ThrowIfDisposed(TypeNames.Of<TSession>());
        var pool = Services.GetService<SessionPool<TSession>>();
        if (pool is null)
        {
            ThrowHelper.ThrowInvalidOperation(
                $"No session pool is registered for '{TypeNames.Of<TSession>()}'. Register it with services.AddIsolatedSession<{typeof(TSession).Name}>((services, ct) => ...) so that every scope opens its own bounded, guarded session.");
        }

        // Taken here, synchronously, so a Paranoid trace shows the caller's frames rather than the thread pool's after an await.
        return pool.OpenAsync(this, IsTracked ? Monitor.Leaks.CaptureStackTrace() : null, cancellationToken);
    }
}
