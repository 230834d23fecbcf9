using System.Diagnostics;
using Isolation.Diagnostics;
using Isolation.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation;

/// <summary>
/// One request or agent run, isolated: its own DI scope, its own <see cref="UserExecutionContext"/>, its own
/// cancellation token, and everything it hands out (agents, sessions) owned by it and released when it ends.
/// </summary>
/// <remarks>
/// Create with <see cref="IIsolationScopeFactory.CreateScope"/>. Disposal is idempotent, releases owned resources in
/// reverse order of acquisition and never throws because one of them failed (it reports instead).
/// </remarks>
/// <example>
/// <code>
/// await using var scope = scopeFactory.CreateScope(new UserExecutionContext(userId), TimeSpan.FromSeconds(30));
/// var triage = scope.GetAgent&lt;TriageAgent&gt;();
/// await triage.HandleAsync(message, scope.Aborted);
/// </code>
/// </example>
public sealed partial class IsolationScope : IAsyncDisposable, IDisposable
{
    private const int DisposingFlag = 1;
    private const int FinishedFlag = 2;
    private const int DirtyFlag = 4;
    private const int AbortedByDeadlineFlag = 8;
    private const int AbortedByCallerFlag = 16;

    // The status the runner set, in bits 8-10 of the flags (0: none set, then 1 + its index in Statuses).
    private const int StatusShift = 8;
    private const int StatusMask = 7 << StatusShift;
    private static readonly string[] Statuses = [ScopeStatus.Completed, ScopeStatus.Failed, ScopeStatus.TimedOut, ScopeStatus.Cancelled, ScopeStatus.Rejected];

    // The ambient value is a holder, never the scope: execution contexts captured while the scope was current (a timer,
    // Task.Run, a singleton's background loop) keep only the holder, which disposal clears.
    private static readonly AsyncLocal<AmbientScope?> CurrentScope = new();
    private static long s_lastId;

    private readonly IsolationScopeFactory _factory;
    private readonly AmbientScope _ambient;
    private readonly AmbientScope? _previous;
    // Null until the scope's services are first used (most of a scope's cost is its DI scope, and a scope that hands
    // out only pooled agents or events needs none), then the DI scope, then EndedServiceScope.Instance once disposal took it.
    private IServiceScope? _serviceScope;
    private readonly long _startTimestamp;
    private readonly ScopeLeakSentinel? _sentinel;
    private readonly Activity? _activity;
    // Resources are added mostly from one flow and the critical sections are a few instructions: a spin lock in the
    // scope itself (no lock object), and the first resource in a field, keep a scope with one agent allocation-free.
    private SpinLock _resourceGate = new(enableThreadOwnerTracking: false);
    private IScopeResource? _firstResource;
    private List<IScopeResource>? _moreResources;
    private CancellationTokenSource? _abortSource;
    private ITimer? _deadlineTimer;
    private int _flags;
    private int _violationCount;
    private long _id;

    internal IsolationScope(
        IsolationScopeFactory factory,
        UserExecutionContext context,
        IsolationMode mode,
        TimeSpan? deadline,
        bool tracked)
    {
        _factory = factory;
        Context = context;
        Mode = mode;
        _startTimestamp = factory.Monitor.Metrics.TimesScopes ? Stopwatch.GetTimestamp() : 0;
        if (tracked)
        {
            _sentinel = factory.Monitor.Leaks.CreateSentinel(context);
        }

        if (deadline is { } d)
        {
            // A timer of the scope's own, not a cancellation source with a delay: the deadline is recorded before Aborted is
            // cancelled, so work that wakes up from the cancellation always sees DeadlineExceeded.
            _deadlineTimer = factory.TimeProvider.CreateTimer(static s => ((IsolationScope)s!).ExpireDeadline(), this, d, Timeout.InfiniteTimeSpan);
        }

        _ambient = new AmbientScope(this, weak: tracked);
        // A holder whose scope ended reads as no scope: remember it as none, so disposal has nothing to restore.
        _previous = CurrentScope.Value is { Scope: not null } previous ? previous : null;
        CurrentScope.Value = _ambient;
        _activity = IsolationActivity.StartScope(context, mode);
    }

    /// <summary>
    /// Gets the scope of the current asynchronous flow, or <see langword="null"/> when there is none or it was disposed.
    /// Set when a scope is created and flows into awaited and started work; restored when the scope is disposed. Only
    /// <see cref="IIsolationScopeFactory.CreateScope"/> sets it: using a scope from another flow never makes it current there.
    /// </summary>
    public static IsolationScope? Current
    {
        get
        {
            var scope = CurrentScope.Value?.Scope;
            return scope is null || scope.IsDisposed ? null : scope;
        }
    }

    /// <summary>Gets who this scope's work belongs to.</summary>
    public UserExecutionContext Context { get; }

    /// <summary>Gets this scope's own service provider (a DI scope created for it on first use and disposed with it).</summary>
    /// <exception cref="ObjectDisposedException">The scope has been disposed (it keeps no reference to its DI scope after that).</exception>
    public IServiceProvider Services
    {
        get
        {
            var serviceScope = Volatile.Read(ref _serviceScope);
            return serviceScope is null or EndedServiceScope ? CreateServices() : serviceScope.ServiceProvider;
        }
    }

    /// <summary>Gets how this scope reacts to violations, chosen by <see cref="IIsolationModeProvider"/> when it was created.</summary>
    public IsolationMode Mode { get; }

    /// <summary>Gets a value indicating whether the scope has been disposed (or is being disposed).</summary>
    public bool IsDisposed => (Volatile.Read(ref _flags) & DisposingFlag) != 0;

    /// <summary>
    /// Gets the token that is cancelled when the scope's deadline passes, when <see cref="Abort"/> is called, or when
    /// the scope is disposed. Pass it to everything the scope's work awaits.
    /// </summary>
    public CancellationToken Aborted => (Volatile.Read(ref _abortSource) ?? EnsureAbortSource()).Token;

    /// <summary>Gets a value indicating whether the deadline passed before the scope ended.</summary>
    public bool DeadlineExceeded => (Volatile.Read(ref _flags) & AbortedByDeadlineFlag) != 0;

    /// <summary>Gets how many violations were reported against this scope so far.</summary>
    public int ViolationCount => Volatile.Read(ref _violationCount);

    /// <summary>Gets a value indicating whether leak detection tracks this scope (it then has a leak sentinel).</summary>
    internal bool IsTracked => _sentinel is not null;

    /// <summary>Gets the process-unique number of the scope, to tell scopes apart without holding them; drawn on first use.</summary>
    internal long Id => Volatile.Read(ref _id) is var id and not 0 ? id : DrawId();

    internal IsolationMonitor Monitor => _factory.Monitor;

    /// <summary>
    /// Returns a new agent of type <typeparamref name="TAgent"/> owned by this scope (fresh, or rented from its pool
    /// when the agent is pooled). It is released when the scope ends. It does not change <see cref="Current"/>: use the
    /// agent in the flow that created the scope (or work started from it).
    /// </summary>
    /// <typeparam name="TAgent">An agent type registered with <c>services.AddIsolatedAgent&lt;TAgent&gt;()</c>.</typeparam>
    /// <returns>The agent.</returns>
    /// <exception cref="ObjectDisposedException">The scope has been disposed.</exception>
    /// <exception cref="InvalidOperationException">No agent factory is registered for <typeparamref name="TAgent"/>.</exception>
    public TAgent GetAgent<TAgent>()
        where TAgent : class
    {
        if (IsDisposed)
        {
            ThrowIfDisposed(TypeNames.Of<TAgent>());
        }

        var factory = AgentFactoryCache<TAgent>.Find(_factory);
        if (factory is null)
        {
            factory = Services.GetService<IAgentFactory<TAgent>>();
            if (factory is null)
            {
                ThrowHelper.ThrowInvalidOperation(
                    $"No agent factory is registered for '{TypeNames.Of<TAgent>()}'. Register the agent with services.AddIsolatedAgent<{typeof(TAgent).Name}>() so every scope gets its own instance.");
            }

            AgentFactoryCache<TAgent>.Remember(_factory, factory);
        }

        var agent = factory.Create(this);
        if (factory is not IBuiltInAgentFactory)
        {
            AdoptFromApplicationFactory(agent, factory);
        }

        return agent;
    }

    /// <summary>
    /// Takes ownership of an agent that an application-implemented <see cref="IAgentFactory{TAgent}"/> returned, as the
    /// library's factory does for its own: attached (so its ownership checks work), checked for reuse across scopes
    /// (<see cref="ViolationKind.SingletonReuse"/>), detached when the scope ends, and disposed then only in Enforce.
    /// </summary>
    private void AdoptFromApplicationFactory(object? agent, object factory)
    {
        var factoryType = TypeNames.Of(factory.GetType());
        if (agent is null)
        {
            ThrowHelper.ThrowInvalidOperation(
                $"The agent factory {factoryType} returned null. IAgentFactory<T>.Create must return a new agent owned by the scope it is given.");
        }

        var typeName = TypeNames.Of(agent.GetType());
        AgentHandOuts.ForApplicationFactories.HandTo(agent, this, typeName, "The agent factory " + factoryType);
        (agent as IsolatedAgent)?.Attach(this);
        var owned = new OwnedAgent(agent, typeName, dispose: Mode == IsolationMode.Enforce, IsTracked ? Monitor.Leaks.CaptureStackTrace() : null);
        if (!TryAddResource(owned))
        {
            owned.ReleaseAsync(this).AsTask().GetAwaiter().GetResult();
            ThrowIfDisposed(typeName);
        }
    }

    /// <summary>Cancels <see cref="Aborted"/> now. The scope stays usable for cleanup and must still be disposed.</summary>
    public void Abort()
    {
        if (IsDisposed)
        {
            return;
        }

        Interlocked.Or(ref _flags, AbortedByCallerFlag);
        CancelAbortSource(EnsureAbortSource());
    }

    /// <summary>Returns a short description: the scope's context and state.</summary>
    /// <returns>For example <c>IsolationScope for user 'alice' (run 3f2a…)</c>.</returns>
    public override string ToString() => "IsolationScope for " + Context + (IsDisposed ? " (disposed)" : string.Empty);

    /// <summary>Adds a resource released when the scope ends. Returns false when the scope is already ending.</summary>
    internal bool TryAddResource(IScopeResource resource)
    {
        var taken = false;
        try
        {
            _resourceGate.Enter(ref taken);
            if (IsDisposed)
            {
                return false;
            }

            if (_firstResource is null && _moreResources is null)
            {
                _firstResource = resource;
            }
            else
            {
                (_moreResources ??= new List<IScopeResource>(4)).Add(resource);
            }

            return true;
        }
        finally
        {
            if (taken)
            {
                _resourceGate.Exit(useMemoryBarrier: false);
            }
        }
    }

    /// <summary>Forgets a resource released before the scope ended (e.g. a session its user disposed).</summary>
    internal void RemoveResource(IScopeResource resource)
    {
        var taken = false;
        try
        {
            _resourceGate.Enter(ref taken);
            if (IsDisposed)
            {
                return;
            }

            if (ReferenceEquals(_firstResource, resource))
            {
                _firstResource = null;
            }
            else
            {
                _moreResources?.Remove(resource);
            }
        }
        finally
        {
            if (taken)
            {
                _resourceGate.Exit(useMemoryBarrier: false);
            }
        }
    }

    /// <summary>Takes every resource still owned, oldest first, once the scope is marked as ending.</summary>
    private (IScopeResource? First, List<IScopeResource>? More) TakeResources()
    {
        var taken = false;
        try
        {
            _resourceGate.Enter(ref taken);
            var resources = (_firstResource, _moreResources);
            _firstResource = null;
            _moreResources = null;
            return resources;
        }
        finally
        {
            if (taken)
            {
                _resourceGate.Exit(useMemoryBarrier: false);
            }
        }
    }

    /// <summary>
    /// Gets the work that the runner gave up on while it still runs, when there is such work: the scope ends without it, so
    /// what the work may still touch (pooled agents) is retired instead of being handed to anyone else.
    /// </summary>
    internal Task? AbandonedWork { get; private set; }

    /// <summary>Records that the scope ends while <paramref name="work"/> still runs (see <see cref="AbandonedWork"/>).</summary>
    internal void GiveUpWork(Task work) => AbandonedWork = work;

    /// <summary>Sets the status recorded on <c>isolation.scope.duration</c> (the runner sets it; default <c>completed</c>).</summary>
    internal void SetStatus(string status)
    {
        var index = Array.IndexOf(Statuses, status);
        Debug.Assert(index >= 0, "A status is one of ScopeStatus's values.");
        var bits = (index + 1) << StatusShift;
        int old, updated;
        do
        {
            old = Volatile.Read(ref _flags);
            updated = (old & ~StatusMask) | bits;
        }
        while (Interlocked.CompareExchange(ref _flags, updated, old) != old);
    }

    /// <summary>
    /// Reports a violation against this scope: counted against it (its <see cref="ViolationCount"/> and the isolation
    /// score), logged, raised on <see cref="IsolationMonitor"/>, and thrown as <see cref="IsolationViolationException"/>
    /// in <see cref="IsolationMode.Enforce"/> (leaks are never thrown). Does nothing in <see cref="IsolationMode.Off"/>.
    /// </summary>
    /// <remarks>For integrations and application checks that find a breach the library cannot see by itself.</remarks>
    /// <param name="violation">The violation; <see cref="IsolationViolation.Context"/> should name this scope's context.</param>
    /// <exception cref="ArgumentNullException"><paramref name="violation"/> is <see langword="null"/>.</exception>
    /// <exception cref="IsolationViolationException">In <see cref="IsolationMode.Enforce"/>, for every kind but the leaks.</exception>
    public void ReportViolation(IsolationViolation violation)
    {
        Guard.NotNull(violation);
        if (Mode == IsolationMode.Off)
        {
            return;
        }

        MarkViolated();
        if (_activity is not null)
        {
            IsolationActivity.AddViolation(_activity, violation);
        }

        Monitor.Report(violation);
        if (Mode == IsolationMode.Enforce && !violation.Kind.IsLeak())
        {
            throw new IsolationViolationException(violation);
        }
    }

    /// <summary>
    /// Counts a violation against this scope for <see cref="ViolationCount"/> and the isolation score, without reporting
    /// it (for a violation reported elsewhere, such as an event leak refused by a sink while this scope emitted).
    /// </summary>
    internal void MarkViolated()
    {
        Interlocked.Increment(ref _violationCount);
        var old = Interlocked.Or(ref _flags, DirtyFlag);
        if ((old & DirtyFlag) == 0 && (old & FinishedFlag) != 0)
        {
            Monitor.FinishedScopeBecameDirty();
        }
    }

    internal void ThrowIfDisposed(string resourceType)
    {
        if (IsDisposed)
        {
            ThrowHelper.ThrowObjectDisposed(
                nameof(IsolationScope),
                $"Cannot hand out {resourceType}: the isolation scope of {Context} has been disposed. Create agents and open sessions only while the scope that owns them is alive; start a new scope for new work.");
        }
    }

    /// <summary>
    /// Creates the scope's DI scope on first use. Two flows racing keep the first one; a DI scope created while disposal
    /// takes the field is disposed here, and the caller gets <see cref="ObjectDisposedException"/>.
    /// </summary>
    private IServiceProvider CreateServices()
    {
        ThrowIfDisposed("services");
        var created = _factory.CreateServiceScope(this);
        var existing = Interlocked.CompareExchange(ref _serviceScope, created, null);
        if (existing is null)
        {
            return created.ServiceProvider;
        }

        created.Dispose();
        if (existing is EndedServiceScope)
        {
            ThrowIfDisposed("services");
        }

        return existing.ServiceProvider;
    }

    /// <summary>Marks a scope whose DI scope was taken by disposal (or never created before it).</summary>
    private sealed class EndedServiceScope : IServiceScope
    {
        public static readonly EndedServiceScope Instance = new();

        public IServiceProvider ServiceProvider => throw new ObjectDisposedException(nameof(IsolationScope));

        public void Dispose()
        {
        }
    }

    /// <summary>
    /// What the ambient <see cref="AsyncLocal{T}"/> holds: the scope until it is disposed, then nothing. A tracked scope is
    /// held weakly, so a captured execution context cannot keep an undisposed scope alive and hide its leak.
    /// </summary>
    private sealed class AmbientScope
    {
        // The scope itself, or a weak reference to it for a tracked scope: one field keeps the holder at its smallest.
        private object? _target;

        public AmbientScope(IsolationScope scope, bool weak) => _target = weak ? new WeakReference<IsolationScope>(scope) : scope;

        public IsolationScope? Scope => Volatile.Read(ref _target) switch
        {
            IsolationScope scope => scope,
            WeakReference<IsolationScope> weak when weak.TryGetTarget(out var scope) => scope,
            _ => null,
        };

        public void Clear() => Volatile.Write(ref _target, null);
    }

    private long DrawId()
    {
        var drawn = Interlocked.Increment(ref s_lastId);
        var existing = Interlocked.CompareExchange(ref _id, drawn, 0);
        return existing == 0 ? drawn : existing;
    }

    private CancellationTokenSource EnsureAbortSource()
    {
        var created = new CancellationTokenSource();
        var existing = Interlocked.CompareExchange(ref _abortSource, created, null);
        if (existing is not null)
        {
            created.Dispose();
            return existing;
        }

        // Created after disposal began: the work asking for the token must see it cancelled.
        if (IsDisposed)
        {
            created.Cancel();
        }

        return created;
    }

    /// <summary>The deadline its creator keeps passed (see <see cref="IsolationScopeFactory.CreateScope(UserExecutionContext, TimeSpan?, bool)"/>): what the scope's own timer does.</summary>
    internal void ExpireDeadline()
    {
        if ((Volatile.Read(ref _flags) & (DisposingFlag | AbortedByCallerFlag)) == 0)
        {
            Interlocked.Or(ref _flags, AbortedByDeadlineFlag);
            CancelAbortSource(EnsureAbortSource());
        }
    }

    private string ResolveStatus()
    {
        var flags = Volatile.Read(ref _flags);
        if ((flags & StatusMask) != 0)
        {
            return Statuses[((flags & StatusMask) >> StatusShift) - 1];
        }

        return (flags & AbortedByDeadlineFlag) != 0 ? ScopeStatus.TimedOut
            : (flags & AbortedByCallerFlag) != 0 ? ScopeStatus.Cancelled
            : ScopeStatus.Completed;
    }
}
