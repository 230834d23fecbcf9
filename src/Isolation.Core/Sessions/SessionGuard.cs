using System.Data.Common;
using System.Globalization;
using Isolation.Diagnostics;

namespace Isolation;

/// <summary>
/// A session (a <c>DbConnection</c>, a <c>DbContext</c>, an agent-framework session, anything) bound to the scope that
/// opened it. Using it from another scope (<see cref="ViolationKind.CrossScopeAccess"/>), from two flows at once
/// (<see cref="ViolationKind.ConcurrentUse"/>) or after disposal (<see cref="ViolationKind.UseAfterDispose"/>) is a
/// violation: reported in <see cref="IsolationMode.Observe"/>, thrown in <see cref="IsolationMode.Enforce"/>.
/// </summary>
/// <remarks>
/// Get one from <see cref="IsolationScope.OpenSessionAsync{TSession}"/>. Dispose it when the work is done: the session is
/// closed and its slot goes back to the pool. A guard still open when its scope ends is a
/// <see cref="ViolationKind.SessionLeak"/>: reported, then closed and returned all the same.
/// For a <see cref="DbConnection"/>, <see cref="SessionGuardExtensions.AsDbConnection{TConnection}"/> gives a connection
/// whose commands check the guard, so ADO.NET and Dapper code needs no change.
/// </remarks>
/// <typeparam name="TSession">The session type.</typeparam>
/// <example>
/// <code>
/// await using var session = await scope.OpenSessionAsync&lt;MyDbContext&gt;(ct);
/// using (session.Enter())
/// {
///     session.Session.Orders.Add(order);
///     await session.Session.SaveChangesAsync(ct);
/// }
/// </code>
/// </example>
public sealed class SessionGuard<TSession> : IAsyncDisposable, ISessionGuard, IScopeResource
    where TSession : class
{
    private const int Open = 0;
    private const int Released = 1;

    private readonly SessionPool<TSession> _pool;
    private readonly IsolationScope _owner;
    private readonly TSession _session;
    private readonly string? _creationStackTrace;
    private readonly bool _checks;
    private readonly AccessRecords? _accesses;
    private GuardedDbConnection? _connection;
    private int _state;
    private int _busy;

    internal SessionGuard(SessionPool<TSession> pool, IsolationScope owner, TSession session, string? creationStackTrace)
    {
        _pool = pool;
        _owner = owner;
        _session = session;
        _creationStackTrace = creationStackTrace;
        _checks = owner.Mode != IsolationMode.Off;
        _accesses = owner.IsTracked ? owner.Monitor.Leaks.CreateAccessRecords() : null;
    }

    /// <summary>
    /// Gets the session, after checking that the calling flow may use it: the guard is not disposed and the ambient scope,
    /// if any, is the one that opened it. Wrap operations that run on the session in <see cref="Enter"/> to also detect concurrent use.
    /// </summary>
    /// <exception cref="IsolationViolationException">In <see cref="IsolationMode.Enforce"/>, when the use breaks isolation.</exception>
    public TSession Session
    {
        get
        {
            if (_checks)
            {
                CheckAccessCore(nameof(Session));
            }

            return _session;
        }
    }

    /// <summary>Gets a value indicating whether the guard was disposed (by its user or at the end of its scope) and the session returned.</summary>
    public bool IsDisposed => Volatile.Read(ref _state) != Open;

    /// <summary>Gets the last enters of the guard, when its scope is tracked by leak detection.</summary>
    internal AccessRecords? Accesses => _accesses;

    /// <summary>Gets the scope that opened the session.</summary>
    internal IsolationScope Owner => _owner;

    /// <summary>Gets the session without a check, for the library's own wrappers.</summary>
    internal TSession RawSession => _session;

    string ISessionGuard.SessionType => SessionPool<TSession>.TypeName;

    string IScopeResource.ResourceType => SessionPool<TSession>.TypeName;

    /// <summary>
    /// Starts an operation on the session: checks scope and disposal like <see cref="Session"/>, and marks the session busy
    /// until the returned access is disposed, so that a second flow entering meanwhile is reported as
    /// <see cref="ViolationKind.ConcurrentUse"/> (like EF Core's concurrency detector). Allocation-free. Do not nest:
    /// entering again before the access is disposed counts as concurrent use.
    /// </summary>
    /// <param name="operation">What is being done, for the report; filled in by the compiler.</param>
    /// <returns>The access to dispose when the operation ends.</returns>
    /// <exception cref="IsolationViolationException">In <see cref="IsolationMode.Enforce"/>, when the use breaks isolation.</exception>
    public SessionAccess Enter([System.Runtime.CompilerServices.CallerMemberName] string operation = "") => EnterCore(operation);

    /// <summary>
    /// Closes the session (rolling back what its provider rolls back on close, such as an open transaction) and returns its
    /// slot to the pool. Safe to call more than once; never throws because closing failed (that is logged).
    /// </summary>
    /// <returns>A task that completes when the session is closed.</returns>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _state, Released) != Open)
        {
            return default;
        }

        _owner.RemoveResource(this);
        return CloseAsync();
    }

    /// <summary>Returns a short description: the session type, its scope and state.</summary>
    /// <returns>For example <c>SessionGuard of Npgsql.NpgsqlConnection for user 'alice' (run 3f2a…)</c>.</returns>
    public override string ToString() =>
        "SessionGuard of " + SessionPool<TSession>.TypeName + " for " + _owner.Context + (IsDisposed ? " (disposed)" : string.Empty);

    /// <summary>Returns the guarded wrapper of the session, created once per guard.</summary>
    internal GuardedDbConnection GetGuardedConnection(DbConnection connection)
    {
        if (_checks)
        {
            CheckAccessCore("AsDbConnection");
        }

        return Volatile.Read(ref _connection)
            ?? Interlocked.CompareExchange(ref _connection, new GuardedDbConnection(this, connection), null)
            ?? _connection;
    }

    SessionAccess ISessionGuard.EnterOperation(string operation) => EnterCore(operation);

    void ISessionGuard.CheckAccess(string operation)
    {
        if (_checks)
        {
            CheckAccessCore(operation);
        }
    }

    void ISessionGuard.Exit() => Volatile.Write(ref _busy, 0);

    void ISessionGuard.Dispose()
    {
        if (Interlocked.Exchange(ref _state, Released) != Open)
        {
            return;
        }

        _owner.RemoveResource(this);
        if (_session is IDisposable disposable)
        {
            try
            {
                disposable.Dispose();
            }
#pragma warning disable CA1031 // Closing failed: the slot still goes back to the pool; the failure is logged.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.SessionCloseFailed(_pool.Monitor.Logger, ex, SessionPool<TSession>.TypeName, _owner.Context.ToString());
            }

            _pool.Release();
            return;
        }

        // Only asynchronously disposable: block, as a synchronous Dispose of the caller asks for.
        CloseAsync().AsTask().GetAwaiter().GetResult();
    }

    ValueTask IScopeResource.ReleaseAsync(IsolationScope scope)
    {
        if (Interlocked.Exchange(ref _state, Released) != Open)
        {
            return default;
        }

        // Closed and returned whatever the level; reported unless leak detection is Disabled (no leak kind is reported then).
        if (_pool.Monitor.Leaks.Level == LeakDetectionLevel.Disabled)
        {
            return CloseAsync();
        }

        scope.ReportViolation(new IsolationViolation(
            ViolationKind.SessionLeak,
            SessionPool<TSession>.TypeName,
            string.Format(
                CultureInfo.InvariantCulture,
                "Session {0} opened by the scope of {1} was still open when the scope ended; it was closed now (an open transaction rolled back) and its slot returned to the pool. Until the scope ended it held one of the pool's {2} slots. Dispose sessions as soon as their work is done: 'await using var session = await scope.OpenSessionAsync<{3}>(ct)'.",
                SessionPool<TSession>.TypeName,
                _owner.Context,
                _pool.MaxSessions,
                typeof(TSession).Name) + (_accesses?.Format() ?? string.Empty),
            _owner.Context,
            otherContext: null,
            _creationStackTrace));
        return CloseAsync();
    }

    private SessionAccess EnterCore(string operation)
    {
        if (!_checks)
        {
            return default;
        }

        // Only guards of tracked scopes keep access records, for their leak report; the others pay this null check.
        _accesses?.Add(operation);
        if (Volatile.Read(ref _state) == Open)
        {
            if (ReferenceEquals(IsolationScope.Current, _owner) && Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
            {
                return new SessionAccess(this);
            }
        }

        return EnterSlow(operation);
    }

    private void CheckAccessCore(string operation)
    {
        if (Volatile.Read(ref _state) == Open && ReferenceEquals(IsolationScope.Current, _owner))
        {
            return;
        }

        CheckSlow(operation);
    }

    private async ValueTask CloseAsync()
    {
        try
        {
            if (_session is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                (_session as IDisposable)?.Dispose();
            }
        }
#pragma warning disable CA1031 // Closing failed: the slot still goes back to the pool; the failure is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SessionCloseFailed(_pool.Monitor.Logger, ex, SessionPool<TSession>.TypeName, _owner.Context.ToString());
        }
        finally
        {
            _pool.Release();
        }
    }

    private SessionAccess EnterSlow(string operation)
    {
        // Reports (and in Enforce throws) a disposed or foreign use first; in Observe the operation then proceeds.
        if (!CheckSlow(operation))
        {
            return default;
        }

        if (Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
        {
            return new SessionAccess(this);
        }

        _owner.ReportViolation(new IsolationViolation(
            ViolationKind.ConcurrentUse,
            SessionPool<TSession>.TypeName,
            string.Format(
                CultureInfo.InvariantCulture,
                "Session {0} of the scope of {1} was used ({2}) while another operation on it was still running. A session is not thread-safe: two flows used it at the same time (a missing await, Task.WhenAll over one session, or fire-and-forget work). Await each operation before starting the next, or open one session per parallel flow with scope.OpenSessionAsync<{3}>().",
                SessionPool<TSession>.TypeName,
                _owner.Context,
                operation,
                typeof(TSession).Name),
            _owner.Context,
            IsolationScope.Current?.Context,
            creationStackTrace: null));

        // Observe: the operation goes ahead without holding the session, so the other operation's end still frees it.
        return default;
    }

    /// <summary>Reports a use after disposal or from another scope. Returns whether the guard is still open.</summary>
    private bool CheckSlow(string operation)
    {
        var current = IsolationScope.Current;
        var type = SessionPool<TSession>.TypeName;
        if (Volatile.Read(ref _state) != Open)
        {
            (current ?? _owner).ReportViolation(new IsolationViolation(
                ViolationKind.UseAfterDispose,
                type,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "Session {0} of the scope of {1} was used ({2}){3} after it was disposed and returned to its pool. A reference outlived the session (a field, a static, a captured closure, fire-and-forget work). Finish all work before disposing the session, and open a new one with scope.OpenSessionAsync<{4}>() for new work.",
                    type,
                    _owner.Context,
                    operation,
                    current is null || ReferenceEquals(current, _owner) ? string.Empty : " from the scope of " + current.Context,
                    typeof(TSession).Name),
                _owner.Context,
                current is null || ReferenceEquals(current, _owner) ? null : current.Context,
                creationStackTrace: null));
            return false;
        }

        if (current is null)
        {
            // The owner is ending and releases what it owns (an agent's DisposeAsync flushing through its session).
            if (_owner.IsDisposed)
            {
                return true;
            }

            _owner.ReportViolation(new IsolationViolation(
                ViolationKind.CrossScopeAccess,
                type,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "Session {0} opened by the scope of {1} was used ({2}) outside any isolation scope. A reference kept in a field, a static, a background job or a timer touches the session of a request that is still running. Use a session only in the async flow of the scope that opened it (and work started from it), and open one per scope with scope.OpenSessionAsync<{3}>().",
                    type,
                    _owner.Context,
                    operation,
                    typeof(TSession).Name),
                _owner.Context,
                otherContext: null,
                creationStackTrace: null));
        }
        else if (!ReferenceEquals(current, _owner))
        {
            current.ReportViolation(new IsolationViolation(
                ViolationKind.CrossScopeAccess,
                type,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "Session {0} opened by the scope of {1} was used ({2}) from the scope of {3}. A session belongs to the scope that opened it: another request running commands on it can read or change the first user's data and interleave with its transaction. Open a session in each scope with scope.OpenSessionAsync<{4}>(), and do not keep sessions in fields, statics or caches.",
                    type,
                    _owner.Context,
                    operation,
                    current.Context,
                    typeof(TSession).Name),
                _owner.Context,
                current.Context,
                creationStackTrace: null));
        }

        return true;
    }
}
