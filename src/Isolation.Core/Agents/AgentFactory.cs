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
internal sealed class AgentFactory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TAgent> : IAgentFactory<TAgent>
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
    private readonly ObjectPool<TAgent>? _pool;
    private readonly ConditionalWeakTable<TAgent, HandOut>? _handedOut;
    private readonly IsolationMonitor _monitor;

    public AgentFactory(IServiceProvider root, IsolationMonitor monitor, IOptionsMonitor<IsolatedAgentOptions> options, Func<IServiceProvider, TAgent>? custom)
    {
        _monitor = monitor;
        var settings = options.Get(TypeName);
        if (custom is not null)
        {
            // A custom delegate can return an instance it keeps: check that no instance is handed to two scopes.
            _custom = custom;
            _handedOut = new ConditionalWeakTable<TAgent, HandOut>();
        }
        else
        {
            _activate = ActivatorUtilities.CreateFactory<TAgent>(Type.EmptyTypes);
        }

        if (settings.UsePool)
        {
            var policy = new AgentPoolPolicy(root, _activate, _custom);
            _pool = new DefaultObjectPoolProvider { MaximumRetained = settings.MaximumRetained }.Create(policy);
        }
    }

    public TAgent Create(IsolationScope scope)
    {
        Guard.NotNull(scope);
        scope.ThrowIfDisposed(TypeName);
        var metrics = _monitor.Metrics;
        var start = metrics.AgentCreationEnabled ? Stopwatch.GetTimestamp() : 0;

        TAgent agent;
        if (_pool is not null)
        {
            agent = _pool.Get();
            (agent as IsolatedAgent)?.Attach(scope);
            Own(scope, agent, pooled: true);
        }
        else
        {
            agent = _custom is null ? _activate!(scope.Services, null) : Invoke(_custom, scope);
            (agent as IsolatedAgent)?.Attach(scope);
            if (NeedsRelease || scope.IsTracked)
            {
                Own(scope, agent, pooled: false);
            }
        }

        if (start != 0)
        {
            metrics.AgentCreated(TypeName, _pool is not null, start);
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

    private void Own(IsolationScope scope, TAgent agent, bool pooled)
    {
        var owned = new OwnedAgent(this, agent, pooled, scope.IsTracked ? _monitor.Leaks.CaptureStackTrace() : null);
        if (!scope.TryAddResource(owned))
        {
            // The scope began ending between the check and now: give the agent back and refuse.
            owned.ReleaseAsync(scope).AsTask().GetAwaiter().GetResult();
            scope.ThrowIfDisposed(TypeName);
        }
    }

    private sealed record HandOut(long ScopeId, UserExecutionContext Context);

    /// <summary>The scope's record of one agent it owns: disposes it or returns it to the pool when the scope ends.</summary>
    private sealed class OwnedAgent : IScopeResource
    {
        private readonly AgentFactory<TAgent> _factory;
        private readonly TAgent _agent;
        private readonly bool _pooled;
        private readonly string? _creationStackTrace;

        public OwnedAgent(AgentFactory<TAgent> factory, TAgent agent, bool pooled, string? creationStackTrace)
        {
            _factory = factory;
            _agent = agent;
            _pooled = pooled;
            _creationStackTrace = creationStackTrace;
        }

        public string ResourceType => TypeName;

        public ValueTask ReleaseAsync(IsolationScope scope)
        {
            if (_pooled)
            {
                // Detached first: the pool resets it (IResettable.TryReset) and drops it when the reset fails or the pool is full.
                (_agent as IsolatedAgent)?.Detach(returnedToPool: true);
                _factory._pool!.Return(_agent);
                return default;
            }

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

    private sealed class AgentPoolPolicy : PooledObjectPolicy<TAgent>
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

        public override TAgent Create() => _custom is null ? _activate!(_root, null) : _custom(_root);

        public override bool Return(TAgent obj) => obj is not IResettable resettable || resettable.TryReset();
    }
}
