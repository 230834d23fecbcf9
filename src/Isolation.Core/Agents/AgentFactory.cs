using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using Isolation.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Options;

namespace Isolation;

/// <summary>
/// The default <see cref="IAgentFactory{TAgent}"/>: activates through DI with a constructor call compiled once, or
/// rents from a pool, and hands ownership to the scope.
/// </summary>
internal sealed class AgentFactory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TAgent> : IAgentFactory<TAgent>, IDisposable
    where TAgent : class
{
    private static readonly string TypeName = TypeNames.Of<TAgent>();

    // Whether the scope must release the agent even when its leak tracking is off.
    private static readonly bool NeedsRelease =
        typeof(IDisposable).IsAssignableFrom(typeof(TAgent)) ||
        typeof(IAsyncDisposable).IsAssignableFrom(typeof(TAgent)) ||
        typeof(IsolatedAgent).IsAssignableFrom(typeof(TAgent));

    private readonly ObjectFactory<TAgent>? _activate;
    private readonly Func<IServiceProvider, TAgent>? _custom;
    private readonly ObjectPool<PooledAgent>? _pool;
    private readonly ConditionalWeakTable<TAgent, HandOut>? _handedOut;
    private readonly IsolationMonitor _monitor;

    public AgentFactory(IServiceProvider root, IsolationMonitor monitor, IOptionsMonitor<IsolatedAgentOptions> options, Func<IServiceProvider, TAgent>? custom)
    {
        _monitor = monitor;
        var settings = options.Get(TypeName);
        if (custom is not null)
        {
            _custom = custom;
            if (!settings.UsePool)
            {
                // A custom delegate can return an instance it keeps: check that no instance is handed to two scopes.
                _handedOut = new ConditionalWeakTable<TAgent, HandOut>();
            }
        }
        else
        {
            _activate = ActivatorUtilities.CreateFactory<TAgent>(Type.EmptyTypes);
        }

        if (settings.UsePool)
        {
            var policy = new AgentPoolPolicy(root, _activate, _custom);
            _pool = new DefaultObjectPoolProvider { MaximumRetained = settings.MaximumRetained }.Create(policy);
            policy.Pool = _pool;
        }
    }

    /// <summary>Disposes the idle pooled agents with the container (agents still rented are disposed when dropped on return).</summary>
    public void Dispose() => (_pool as IDisposable)?.Dispose();

    public TAgent Create(IsolationScope scope)
    {
        Guard.NotNull(scope);
        scope.ThrowIfDisposed(TypeName);
        var metrics = _monitor.Metrics;
        var latencies = _monitor.CreationLatencies;
        var start = metrics.AgentCreationEnabled || latencies is not null ? Stopwatch.GetTimestamp() : 0;

        TAgent agent;
        if (_pool is not null)
        {
            // The pool holds the agent together with its scope record, so renting allocates nothing.
            var pooled = _pool.Get();
            agent = pooled.Agent;
            (agent as IsolatedAgent)?.Attach(scope);
            AddOrRelease(scope, pooled);
        }
        else
        {
            agent = _custom is null ? _activate!(scope.Services, null) : Invoke(_custom, scope);
            (agent as IsolatedAgent)?.Attach(scope);
            if (NeedsRelease || scope.IsTracked)
            {
                AddOrRelease(scope, new OwnedAgent(this, agent, scope.IsTracked ? _monitor.Leaks.CaptureStackTrace() : null));
            }
        }

        if (start != 0)
        {
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            metrics.AgentCreated(TypeName, _pool is not null, seconds);
            latencies?.Record(seconds);
        }

        return agent;
    }

    private TAgent Invoke(Func<IServiceProvider, TAgent> custom, IsolationScope scope)
    {
        var agent = custom(scope.Services);
        if (agent is null)
        {
            ThrowHelper.ThrowInvalidOperation(
                $"The factory registered with AddIsolatedAgent<{typeof(TAgent).Name}>(factory) returned null. It must return a new {TypeName} for each call.");
        }

        if (scope.Mode != IsolationMode.Off)
        {
            CheckNotShared(agent, scope);
        }

        return agent;
    }

    private void CheckNotShared(TAgent agent, IsolationScope scope)
    {
        var handedOut = _handedOut!;
        if (handedOut.TryGetValue(agent, out var previous) && previous.ScopeId != scope.Id)
        {
            scope.ReportViolation(new IsolationViolation(
                ViolationKind.SingletonReuse,
                TypeName,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "The factory of agent {0} returned the same instance to the scope of {1} that it already gave to the scope of {2}: the agent is shared like a singleton, so one user's state reaches another's. Return a new instance from the factory on every call, and do not register the agent as a singleton.",
                    TypeName,
                    scope.Context,
                    previous.Context),
                scope.Context,
                previous.Context,
                creationStackTrace: null));
        }

        handedOut.AddOrUpdate(agent, new HandOut(scope.Id, scope.Context));
    }

    private static void AddOrRelease(IsolationScope scope, IScopeResource owned)
    {
        if (!scope.TryAddResource(owned))
        {
            // The scope began ending between the check and now: give the agent back and refuse.
            owned.ReleaseAsync(scope).AsTask().GetAwaiter().GetResult();
            scope.ThrowIfDisposed(TypeName);
        }
    }

    private sealed record HandOut(long ScopeId, UserExecutionContext Context);

    /// <summary>The scope's record of one fresh agent it owns: disposes it when the scope ends.</summary>
    private sealed class OwnedAgent : IScopeResource
    {
        private readonly AgentFactory<TAgent> _factory;
        private readonly TAgent _agent;
        private readonly string? _creationStackTrace;

        public OwnedAgent(AgentFactory<TAgent> factory, TAgent agent, string? creationStackTrace)
        {
            _factory = factory;
            _agent = agent;
            _creationStackTrace = creationStackTrace;
        }

        public string ResourceType => TypeName;

        public ValueTask ReleaseAsync(IsolationScope scope)
        {
            if (scope.IsTracked)
            {
                _factory._monitor.Leaks.TrackEndedAgent(_agent, TypeName, scope.Context, _creationStackTrace);
            }

            if (_agent is IAsyncDisposable asyncDisposable)
            {
                var pending = asyncDisposable.DisposeAsync();
                if (!pending.IsCompletedSuccessfully)
                {
                    return DetachAfter(pending);
                }
            }
            else
            {
                (_agent as IDisposable)?.Dispose();
            }

            (_agent as IsolatedAgent)?.Detach(returnedToPool: false);
            return default;
        }

        private async ValueTask DetachAfter(ValueTask pending)
        {
            try
            {
                await pending.ConfigureAwait(false);
            }
            finally
            {
                (_agent as IsolatedAgent)?.Detach(returnedToPool: false);
            }
        }
    }

    /// <summary>
    /// A pooled agent and the scope's record of it, pooled together: returned to the pool (which resets the agent)
    /// when the scope ends; disposed with the agent when the pool drops it.
    /// </summary>
    private sealed class PooledAgent : IScopeResource, IDisposable
    {
        private readonly ObjectPool<PooledAgent> _pool;

        public PooledAgent(ObjectPool<PooledAgent> pool, TAgent agent)
        {
            _pool = pool;
            Agent = agent;
        }

        public TAgent Agent { get; }

        public string ResourceType => TypeName;

        public ValueTask ReleaseAsync(IsolationScope scope)
        {
            (Agent as IsolatedAgent)?.Detach(returnedToPool: true);
            _pool.Return(this);
            return default;
        }

        public void Dispose() => (Agent as IDisposable)?.Dispose();
    }

    private sealed class AgentPoolPolicy : PooledObjectPolicy<PooledAgent>
    {
        private readonly IServiceProvider _root;
        private readonly ObjectFactory<TAgent>? _activate;
        private readonly Func<IServiceProvider, TAgent>? _custom;

        public AgentPoolPolicy(IServiceProvider root, ObjectFactory<TAgent>? activate, Func<IServiceProvider, TAgent>? custom)
        {
            _root = root;
            _activate = activate;
            _custom = custom;
        }

        public ObjectPool<PooledAgent>? Pool { get; set; }

        public override PooledAgent Create()
        {
            var agent = _custom is null ? _activate!(_root, null) : _custom(_root);
            if (agent is null)
            {
                ThrowHelper.ThrowInvalidOperation(
                    $"The factory registered with AddIsolatedAgent<{typeof(TAgent).Name}>(factory) returned null. It must return a new {TypeName} for each call.");
            }

            return new PooledAgent(Pool!, agent);
        }

        public override bool Return(PooledAgent obj) => obj.Agent is not IResettable resettable || resettable.TryReset();
    }
}
