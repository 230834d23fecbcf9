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
/// The default <see cref="IAgentFactory{TAgent}"/>: activates through DI (its own call site for the agent type where
/// <see cref="AgentActivation{TAgent}.ThroughContainer"/> holds, otherwise a constructor call compiled once), or rents from
/// a pool, and hands ownership to the scope.
/// </summary>
internal sealed class AgentFactory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TAgent> : IAgentFactory<TAgent>, IBuiltInAgentFactory, IDisposable
    where TAgent : class
{
    private const string DelegateSource = "The factory registered with AddIsolatedAgent<TAgent>(factory)";

    private static readonly string TypeName = TypeNames.Of<TAgent>();

    // Whether the scope must release the agent even when its leak tracking is off.
    private static readonly bool NeedsRelease =
        typeof(IDisposable).IsAssignableFrom(typeof(TAgent)) ||
        typeof(IAsyncDisposable).IsAssignableFrom(typeof(TAgent)) ||
        typeof(IsolatedAgent).IsAssignableFrom(typeof(TAgent));

    private readonly ObjectFactory<TAgent>? _activate;
    private readonly bool _throughContainer;
    private readonly bool _withoutServices;
    private readonly Func<IServiceProvider, TAgent>? _custom;
    private readonly ObjectPool<PooledAgent>? _pool;
    private readonly AgentHandOuts? _handedOut;
    private readonly IsolationMonitor _monitor;

    public AgentFactory(IServiceProvider root, IsolationMonitor monitor, IOptionsMonitor<IsolatedAgentOptions> options, Func<IServiceProvider, TAgent>? custom)
    {
        _monitor = monitor;
        var settings = options.Get(TypeName);
        if (custom is not null)
        {
            // A custom delegate can return an instance it keeps, pooled or not: check that no instance reaches two scopes.
            _custom = custom;
            _handedOut = new AgentHandOuts();
        }
        else
        {
            // Compiled even when DI's call site builds the agent: it checks the constructors now, as it always did, and
            // serves a provider without keyed services.
            _activate = ActivatorUtilities.CreateFactory<TAgent>(Type.EmptyTypes);
            _throughContainer = AgentActivation<TAgent>.ThroughContainer && !settings.UsePool;
            _withoutServices = AgentActivation<TAgent>.WithoutServices;
        }

        if (settings.UsePool)
        {
            var policy = new AgentPoolPolicy(root, _activate, _custom, _handedOut);
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
            try
            {
                _handedOut?.HandTo(agent, scope, TypeName, DelegateSource);
            }
            catch
            {
                // Enforce refused the shared instance: it stays with the scope that holds it.
                _pool.Return(pooled);
                throw;
            }

            (agent as IsolatedAgent)?.Attach(scope);
            AddOrRelease(scope, pooled);
        }
        else
        {
            agent = _custom is not null ? Invoke(_custom, scope)
                : _withoutServices ? _activate!(NoServices.Instance, null)
                : Activate(scope.Services);
            (agent as IsolatedAgent)?.Attach(scope);
            if (NeedsRelease || scope.IsTracked)
            {
                // What the library activated, the scope disposes. What an application's factory returned, it disposes only
                // in Enforce: in Observe and Off an instance the factory shares must keep working for everyone else.
                var dispose = _custom is null || scope.Mode == IsolationMode.Enforce;
                AddOrRelease(scope, new OwnedAgent(agent, TypeName, dispose, scope.IsTracked ? _monitor.Leaks.CaptureStackTrace() : null));
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

    private TAgent Activate(IServiceProvider services)
    {
        // The library's keyed transient registration of the agent type (see AddIsolatedAgent): DI's own compiled call site.
        if (_throughContainer && services is IKeyedServiceProvider keyed && keyed.GetKeyedService(typeof(TAgent), AgentActivation.Key) is TAgent agent)
        {
            return agent;
        }

        return _activate!(services, null);
    }

    private TAgent Invoke(Func<IServiceProvider, TAgent> custom, IsolationScope scope)
    {
        var agent = custom(scope.Services);
        if (agent is null)
        {
            ThrowHelper.ThrowInvalidOperation(
                $"The factory registered with AddIsolatedAgent<{typeof(TAgent).Name}>(factory) returned null. It must return a new {TypeName} for each call.");
        }

        _handedOut!.HandTo(agent, scope, TypeName, DelegateSource);
        return agent;
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

    /// <summary>
    /// A pooled agent and the scope's record of it, pooled together: returned to the pool (which resets the agent)
    /// when the scope ends; disposed with the agent when the pool drops it.
    /// </summary>
    private sealed class PooledAgent : IScopeResource, IDisposable
    {
        private readonly ObjectPool<PooledAgent> _pool;
        private readonly AgentHandOuts? _handOuts;

        public PooledAgent(ObjectPool<PooledAgent> pool, TAgent agent, AgentHandOuts? handOuts)
        {
            _pool = pool;
            Agent = agent;
            _handOuts = handOuts;
        }

        public TAgent Agent { get; }


        public string ResourceType => TypeName;

        public ValueTask ReleaseAsync(IsolationScope scope)
        {
            _handOuts?.Returned(Agent, scope);
            (Agent as IsolatedAgent)?.Detach(returnedToPool: true);
            if (scope.AbandonedWork is { } work)
            {
                // The previous owner's work may still write to the agent: retire it (never reset, never rented again),
                // and dispose it once that work has returned.
                work.ContinueWith(
                    static (_, state) => ((PooledAgent)state!).Dispose(),
                    this,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
                return default;
            }

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
        private readonly AgentHandOuts? _handOuts;

        public AgentPoolPolicy(IServiceProvider root, ObjectFactory<TAgent>? activate, Func<IServiceProvider, TAgent>? custom, AgentHandOuts? handOuts)
        {
            _root = root;
            _activate = activate;
            _custom = custom;
            _handOuts = handOuts;
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

            return new PooledAgent(Pool!, agent, _handOuts);
        }

        public override bool Return(PooledAgent obj) => obj.Agent is not IResettable resettable || resettable.TryReset();
    }

    /// <summary>What a constructor without parameters is compiled against: nothing is ever asked of it.</summary>
    private sealed class NoServices : IServiceProvider
    {
        public static readonly NoServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
