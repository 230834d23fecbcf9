using System.Globalization;
using System.Runtime.CompilerServices;
using Isolation.Diagnostics;
using Isolation.Internal;

namespace Isolation;

/// <summary>
/// Optional base class for agents that checks, at run time, that each use comes from the scope that owns the agent.
/// Call <see cref="EnsureOwned"/> at the start of the agent's public methods: a reference kept past its scope, used
/// from another user's scope, or used after the agent went back to its pool is then reported as a violation
/// (and thrown in <see cref="IsolationMode.Enforce"/>) instead of silently reading or writing another user's state.
/// </summary>
/// <remarks>
/// The check costs one read of the ambient scope and two comparisons. An instance created with <c>new</c>, that no scope
/// ever handed out, is reported as <see cref="ViolationKind.UnownedAgent"/> when it is used inside a scope.
/// </remarks>
/// <example>
/// <code>
/// public sealed class TriageAgent : IsolatedAgent, IResettable
/// {
///     private readonly List&lt;string&gt; _notes = new();
///     public void Note(string text) { EnsureOwned(); _notes.Add(text); }
///     public bool TryReset() { _notes.Clear(); return true; }
/// }
/// </code>
/// </example>
public abstract class IsolatedAgent : IAgent
{
    private const int Unmanaged = 0;
    private const int Leased = 1;
    private const int Ended = 2;
    private const int Returned = 3;

    private IsolationScope? _owner;
    private IsolationScope? _lastOwner;
    private IsolationMonitor? _monitor;
    private AccessRecords? _accesses;
    private UserExecutionContext? _lastContext;
    private IsolationMode _lastMode;
    private int _state;
    private long _lease;

    /// <summary>Gets the scope that currently owns the agent, or <see langword="null"/> when it has none.</summary>
    protected IsolationScope? OwnerScope => Volatile.Read(ref _state) == Leased ? _owner : null;

    /// <summary>Gets how many times the agent was handed to a scope (1 for a fresh agent; grows with each rent from a pool).</summary>
    protected long LeaseNumber => Interlocked.Read(ref _lease);

    /// <summary>
    /// Verifies that the calling flow may use this agent: it is owned by a live scope, and the ambient scope (if any) is that scope.
    /// </summary>
    /// <param name="member">The member being called, for the report; filled in by the compiler.</param>
    /// <exception cref="IsolationViolationException">In <see cref="IsolationMode.Enforce"/>, when the use breaks isolation.</exception>
    protected void EnsureOwned([CallerMemberName] string member = "")
    {
        // Only agents of tracked scopes keep access records, for their leak report; the others pay this null check.
        _accesses?.Add(member);
        if (Volatile.Read(ref _state) == Leased && ReferenceEquals(IsolationScope.Current, _owner))
        {
            return;
        }

        CheckSlow(member);
    }

    internal void Attach(IsolationScope scope)
    {
        _owner = scope;
        _lastOwner = scope;
        _monitor = scope.Monitor;
        _lastContext = scope.Context;
        _lastMode = scope.Mode;
        _accesses = scope.IsTracked ? scope.Monitor.Leaks.CreateAccessRecords() : null;
        Interlocked.Increment(ref _lease);
        Volatile.Write(ref _state, Leased);
    }

    /// <summary>Gets the last accesses of the current (or last) lease, when its scope is tracked by leak detection.</summary>
    internal AccessRecords? Accesses => _accesses;

    internal void Detach(bool returnedToPool)
    {
        Volatile.Write(ref _state, returnedToPool ? Returned : Ended);
        _owner = null;
    }

    private void CheckSlow(string member)
    {
        var state = Volatile.Read(ref _state);
        var current = IsolationScope.Current;
        var typeName = TypeNames.Of(GetType());
        if (state == Unmanaged)
        {
            // Outside any scope there is nobody to report to (a unit test of the agent itself, for example).
            current?.ReportViolation(new IsolationViolation(
                ViolationKind.UnownedAgent,
                typeName,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "Agent {0} was used ({1}) in the scope of {2}, but no isolation scope ever handed it out: it was created with new (or by code outside the library), so nothing knows which user it belongs to, and nothing checks or releases it. Register the agent with services.AddIsolatedAgent<{3}>() and get it from scope.GetAgent<{3}>() (analyzer ISO004 points at the new).",
                    typeName,
                    member,
                    current.Context,
                    GetType().Name),
                current.Context,
                otherContext: null));
            return;
        }

        var owner = _owner;
        if (state == Leased && owner is not null)
        {
            if (owner.IsDisposed)
            {
                // The owning scope is releasing its resources (the agent's own Dispose may run this check).
                return;
            }

            var outside = current is null;
            Report(current, current?.Mode ?? owner.Mode, new IsolationViolation(
                ViolationKind.CrossScopeAccess,
                typeName,
                string.Format(
                    CultureInfo.InvariantCulture,
                    outside
                        ? "Agent {0} owned by the scope of {1} was used ({2}) outside any isolation scope (lease {4}). A reference kept from an earlier request, a static or a background job touches the state of whoever owns the agent now. Use an agent only in the async flow of the scope that gave it out; get a new one with scope.GetAgent<T>()."
                        : "Agent {0} owned by the scope of {1} was used ({2}) from the scope of {3}. An agent belongs to the scope that created it; share data between scopes, never agents, and get each scope its own agent with scope.GetAgent<T>().",
                    typeName,
                    owner.Context,
                    member,
                    current?.Context,
                    Interlocked.Read(ref _lease)),
                owner.Context,
                current?.Context,
                creationStackTrace: null));
            return;
        }

        if (state is Returned or Ended)
        {
            var returned = state == Returned;
            Report(current, current?.Mode ?? _lastMode, new IsolationViolation(
                returned ? ViolationKind.UseAfterReturn : ViolationKind.UseAfterDispose,
                typeName,
                string.Format(
                    CultureInfo.InvariantCulture,
                    returned
                        ? "Agent {0} was used ({1}){2} after it went back to its pool at the end of the scope of {3} (lease {4}); by now it may serve another user. A reference outlived its scope (a field, a static, a captured closure). Get the agent from the current scope with scope.GetAgent<T>() instead of keeping it."
                        : "Agent {0} was used ({1}){2} after the scope of {3} that owned it ended (lease {4}). A reference outlived its scope (a field, a static, a captured closure, fire-and-forget work). Finish all work on an agent before its scope ends, and get a new agent with scope.GetAgent<T>() for new work.",
                    typeName,
                    member,
                    current is null ? string.Empty : " from the scope of " + current.Context,
                    _lastContext,
                    Interlocked.Read(ref _lease)),
                _lastContext,
                current?.Context,
                creationStackTrace: null));
        }
    }

    private void Report(IsolationScope? current, IsolationMode mode, IsolationViolation violation)
    {
        // A use after the agent's scope ended is that scope's violation too (its reference outlived it): counted against
        // it for the isolation score, however late it is found.
        if (violation.Kind is ViolationKind.UseAfterDispose or ViolationKind.UseAfterReturn && mode != IsolationMode.Off &&
            _lastOwner is { } last && !ReferenceEquals(last, current))
        {
            last.MarkViolated();
        }

        if (current is not null)
        {
            current.ReportViolation(violation);
            return;
        }

        if (mode == IsolationMode.Off)
        {
            return;
        }

        _monitor?.Report(violation);
        if (mode == IsolationMode.Enforce)
        {
            throw new IsolationViolationException(violation);
        }
    }
}
