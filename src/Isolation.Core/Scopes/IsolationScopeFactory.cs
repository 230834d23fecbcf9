using System.Globalization;
using Isolation.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Isolation;

/// <summary>The default <see cref="IIsolationScopeFactory"/>: a DI scope, a mode and, when sampled, leak tracking per scope.</summary>
internal sealed class IsolationScopeFactory : IIsolationScopeFactory
{
    private readonly IServiceScopeFactory _serviceScopeFactory;
    private readonly IIsolationModeProvider? _modeProvider;
    private readonly IsolationMode _defaultMode;
    private readonly TimeSpan? _defaultDeadline;

    public IsolationScopeFactory(
        IServiceScopeFactory serviceScopeFactory,
        IsolationMonitor monitor,
        IOptions<IsolationOptions> options,
        TimeProvider timeProvider,
        IEnumerable<IIsolationModeProvider> modeProviders)
    {
        _serviceScopeFactory = serviceScopeFactory;
        Monitor = monitor;
        TimeProvider = timeProvider;
        _defaultMode = options.Value.Mode;
        _defaultDeadline = options.Value.DefaultDeadline;

        // The last registration wins, as with any DI service; none means the configured mode for everyone.
        foreach (var provider in modeProviders)
        {
            _modeProvider = provider;
        }
    }

    public IsolationMonitor Monitor { get; }

    public TimeProvider TimeProvider { get; }

    public IsolationScope CreateScope(UserExecutionContext context, TimeSpan? deadline = null) => CreateScope(context, deadline, ownTimer: true);

    /// <summary>
    /// Creates a scope; with <paramref name="ownTimer"/> false its creator keeps the deadline (the runner's reusable
    /// timers call <see cref="IsolationScope.ExpireDeadline"/>), so the scope makes no timer of its own.
    /// </summary>
    internal IsolationScope CreateScope(UserExecutionContext context, TimeSpan? deadline, bool ownTimer)
    {
        Guard.NotNull(context);
        deadline ??= _defaultDeadline;
        if (deadline is { } d && (d <= TimeSpan.Zero || d > IsolationOptions.MaxDeadline))
        {
            throw new ArgumentOutOfRangeException(
                nameof(deadline),
                d,
                string.Format(CultureInfo.InvariantCulture, "A scope's deadline must be positive and at most {0}; pass null for no deadline.", IsolationOptions.MaxDeadline));
        }

        var mode = _defaultMode;
        if (_modeProvider is { } provider)
        {
            mode = provider.GetMode(context);

            // Off, Observe and Enforce are 0, 1 and 2; the configured default was validated at startup.
            if ((uint)mode > (uint)IsolationMode.Enforce)
            {
                ThrowHelper.ThrowInvalidOperation(
                    $"The registered {provider.GetType().FullName} returned {(int)mode} for {context}, which is not an IsolationMode. Return Off, Observe or Enforce.");
            }
        }

        var leaks = Monitor.Leaks;
        leaks.OnScopeCreated();
        var scope = new IsolationScope(this, context, mode, ownTimer ? deadline : null, mode != IsolationMode.Off && leaks.ShouldTrackScope());
        Monitor.Metrics.ScopeStarted();
        return scope;
    }

    /// <summary>Creates the DI scope of <paramref name="owner"/> (on its first use of services), which then resolves <see cref="IsolationScope"/> as its owner.</summary>
    internal IServiceScope CreateServiceScope(IsolationScope owner)
    {
        var serviceScope = _serviceScopeFactory.CreateScope();
        serviceScope.ServiceProvider.GetRequiredService<ScopeHolder>().Scope = owner;
        return serviceScope;
    }
}
