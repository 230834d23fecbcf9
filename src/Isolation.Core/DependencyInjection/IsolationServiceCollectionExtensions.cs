using System.Diagnostics.CodeAnalysis;
using Isolation;
using Isolation.Diagnostics;
using Isolation.Execution;
using Isolation.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the isolation runtime and isolated agents.</summary>
public static partial class IsolationServiceCollectionExtensions
{
    /// <summary>The sub-section of the <c>Isolation</c> section that <see cref="IsolatedRunnerOptions"/> bind from: <c>Runner</c>.</summary>
    public const string RunnerSectionName = "Runner";

    /// <summary>The sub-section of the <c>Isolation</c> section that <see cref="EventDeliveryOptions"/> bind from: <c>Events</c>.</summary>
    public const string EventsSectionName = "Events";

    /// <summary>
    /// Adds the isolation runtime: <see cref="IIsolationScopeFactory"/>, <see cref="IsolationMonitor"/>, metrics
    /// (meter <c>Isolation</c>) and validated <see cref="IsolationOptions"/> with their defaults. Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddIsolation(this IServiceCollection services)
    {
        Guard.NotNull(services);
        AddCore(services);
        return services;
    }

    /// <summary>Adds the isolation runtime (see <see cref="AddIsolation(IServiceCollection)"/>) and configures its options.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options; validated when the first scope factory or monitor is built, or at host start.</param>
    /// <returns>The service collection.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddIsolation(o => o.Mode = IsolationMode.Observe);
    /// builder.Services.AddIsolatedAgent&lt;TriageAgent&gt;();
    /// </code>
    /// </example>
    public static IServiceCollection AddIsolation(this IServiceCollection services, Action<IsolationOptions> configure)
    {
        Guard.NotNull(services);
        Guard.NotNull(configure);
        AddCore(services);
        services.Configure(configure);
        return services;
    }

    /// <summary>
    /// Adds the isolation runtime with options bound from <paramref name="configuration"/> (typically the <c>Isolation</c>
    /// section): <see cref="IsolationOptions"/> from the section itself, <see cref="IsolatedRunnerOptions"/> from its
    /// <c>Runner</c> sub-section and <see cref="EventDeliveryOptions"/> from its <c>Events</c> sub-section. A value that cannot
    /// be read (an unknown name, a non-number, a malformed time span) or an unknown key is an
    /// <see cref="OptionsValidationException"/> at startup, one line per problem naming the key, the value and what is accepted.
    /// Other sub-sections (<c>Isolation:Redis</c>, an application's own) are left to whoever binds them.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section to bind, e.g. <c>builder.Configuration.GetSection("Isolation")</c>.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddIsolation(this IServiceCollection services, IConfiguration configuration)
    {
        Guard.NotNull(services);
        Guard.NotNull(configuration);
        AddCore(services);
        Bind(services, configuration, IsolationConfigurationSchemas.Isolation);
        Bind(services, configuration.GetSection(RunnerSectionName), IsolationConfigurationSchemas.Runner);
        Bind(services, configuration.GetSection(EventsSectionName), IsolationConfigurationSchemas.Events);
        return services;
    }

    private static void Bind<TOptions>(IServiceCollection services, IConfiguration section, OptionsSchema<TOptions> schema)
        where TOptions : class, new()
    {
        var binding = new ConfigurationOptions<TOptions>(section, schema);
        services.AddSingleton<IConfigureOptions<TOptions>>(binding);
        services.AddSingleton<IValidateOptions<TOptions>>(binding);
        services.AddSingleton<IOptionsChangeTokenSource<TOptions>>(new ConfigurationChangeTokenSource<TOptions>(section));
    }

    /// <summary>
    /// Registers <typeparamref name="TAgent"/> as an isolated agent: <see cref="IsolationScope.GetAgent{TAgent}"/> returns
    /// a new instance per scope, activated through DI with the scope's services. Adds the isolation runtime when it is
    /// not registered yet. Safe to call more than once: the last <c>AddIsolatedAgent</c> call for an agent type wins whole
    /// (its factory and its options replace those of earlier calls, and of an <see cref="IAgentFactory{TAgent}"/> registered before).
    /// </summary>
    /// <typeparam name="TAgent">The agent type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddIsolatedAgent<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TAgent>(this IServiceCollection services)
        where TAgent : class
        => AddAgent<TAgent>(services, factory: null, configure: null);

    /// <summary>
    /// Registers <typeparamref name="TAgent"/> as an isolated agent with options, e.g. pooling
    /// (<see cref="IsolatedAgentOptions.UsePool"/>) for agents that implement <see cref="IResettable"/>.
    /// </summary>
    /// <typeparam name="TAgent">The agent type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the agent's options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddIsolatedAgent<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TAgent>(this IServiceCollection services, Action<IsolatedAgentOptions> configure)
        where TAgent : class
    {
        Guard.NotNull(configure);
        return AddAgent<TAgent>(services, factory: null, configure);
    }

    /// <summary>
    /// Registers <typeparamref name="TAgent"/> as an isolated agent created by <paramref name="factory"/>, which must
    /// return a new instance on every call; an instance handed to two scopes is reported as
    /// <see cref="ViolationKind.SingletonReuse"/>.
    /// </summary>
    /// <typeparam name="TAgent">The agent type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="factory">Creates an agent from the scope's service provider (the root provider for pooled agents).</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddIsolatedAgent<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TAgent>(this IServiceCollection services, Func<IServiceProvider, TAgent> factory)
        where TAgent : class
    {
        Guard.NotNull(factory);
        return AddAgent(services, factory, configure: null);
    }

    /// <summary>Registers <typeparamref name="TAgent"/> as an isolated agent created by <paramref name="factory"/>, with options.</summary>
    /// <typeparam name="TAgent">The agent type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="factory">Creates an agent from the scope's service provider (the root provider for pooled agents).</param>
    /// <param name="configure">Configures the agent's options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddIsolatedAgent<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TAgent>(
        this IServiceCollection services,
        Func<IServiceProvider, TAgent> factory,
        Action<IsolatedAgentOptions> configure)
        where TAgent : class
    {
        Guard.NotNull(factory);
        Guard.NotNull(configure);
        return AddAgent(services, factory, configure);
    }

    private static IServiceCollection AddAgent<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TAgent>(
        IServiceCollection services,
        Func<IServiceProvider, TAgent>? factory,
        Action<IsolatedAgentOptions>? configure)
        where TAgent : class
    {
        Guard.NotNull(services);
        if (typeof(TAgent).IsAbstract && factory is null)
        {
            ThrowHelper.ThrowArgument(
                $"Agent type '{TypeNames.Of<TAgent>()}' is abstract or an interface, so it cannot be activated. Register a concrete type, or pass a factory: AddIsolatedAgent<{typeof(TAgent).Name}>(sp => new MyAgent(...)).",
                nameof(TAgent));
        }

        AddCore(services);
        var name = TypeNames.Of<TAgent>();

        // The last registration of an agent wins whole: its factory and its options, never a mix of two calls.
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(IAgentFactory<TAgent>) ||
                (descriptor.ServiceType == typeof(TAgent) && AgentActivation.IsActivation(descriptor)) ||
                (!descriptor.IsKeyedService && descriptor.ImplementationInstance is AgentOptionsConfiguration<TAgent>))
            {
                services.RemoveAt(i);
            }
        }

        var builder = services.AddOptions<IsolatedAgentOptions>(name);
        if (configure is not null)
        {
            services.AddSingleton<IConfigureOptions<IsolatedAgentOptions>>(new AgentOptionsConfiguration<TAgent>(name, configure));
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IsolatedAgentOptions>, IsolatedAgentOptionsValidator<TAgent>>());
        builder.ValidateOnStart();
        if (factory is null && AgentActivation<TAgent>.ThroughContainer)
        {
            // DI's own call site for the fresh agent, resolved by the factory from the scope's provider under a key only the
            // library holds: the application's own registrations of the type (if any) are not touched.
            services.Add(ServiceDescriptor.KeyedTransient<TAgent, TAgent>(AgentActivation.Key));
        }

        services.AddSingleton<IAgentFactory<TAgent>>(sp => new AgentFactory<TAgent>(
            sp,
            sp.GetRequiredService<IsolationMonitor>(),
            sp.GetRequiredService<IOptionsMonitor<IsolatedAgentOptions>>(),
            factory));
        return services;
    }

    private static void AddCore(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(IsolationMarker)))
        {
            return;
        }

        services.AddSingleton<IsolationMarker>();
        services.AddOptions<IsolationOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IsolationOptions>, IsolationOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new IsolationMonitor(
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetRequiredService<IOptions<IsolationOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            trackCreationLatency: sp.GetService<IsolationHealthCheckMarker>() is not null));
        services.TryAddSingleton<IsolationScopeFactory>();
        services.TryAddSingleton<IIsolationScopeFactory>(sp => sp.GetRequiredService<IsolationScopeFactory>());
        services.TryAddScoped<ScopeHolder>();
        services.TryAddScoped(static sp => sp.GetRequiredService<ScopeHolder>().Scope
            ?? throw new InvalidOperationException(
                "IsolationScope can only be resolved from the services of an isolation scope (scope.Services, or a constructor of an agent created by scope.GetAgent<T>()). This service provider scope was not created by IIsolationScopeFactory.CreateScope."));
        services.AddOptions<IsolatedRunnerOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IsolatedRunnerOptions>, IsolatedRunnerOptionsValidator>());
        services.TryAddSingleton<IIsolatedRunner>(sp => new IsolatedRunner(
            sp.GetRequiredService<IsolationScopeFactory>(),
            sp.GetRequiredService<IConnectionRegistry>(),
            sp.GetRequiredService<IOptions<IsolatedRunnerOptions>>()));
        AddSessionCore(services);
        AddEventCore(services);
    }

    /// <summary>Registers what every session pool shares; implemented with the sessions capability.</summary>
    static partial void AddSessionCore(IServiceCollection services);

    /// <summary>Registers the event routing services; implemented with the events capability.</summary>
    static partial void AddEventCore(IServiceCollection services);

    /// <summary>Marks the collection as already holding the core registrations, so a second call adds nothing twice.</summary>
    private sealed class IsolationMarker
    {
    }

    /// <summary>The options of one <c>AddIsolatedAgent</c> call, recognisable so that a later call can replace them.</summary>
    private sealed class AgentOptionsConfiguration<TAgent> : ConfigureNamedOptions<IsolatedAgentOptions>
    {
        public AgentOptionsConfiguration(string name, Action<IsolatedAgentOptions> configure)
            : base(name, configure)
        {
        }
    }

    private sealed class IsolatedAgentOptionsValidator<TAgent> : IValidateOptions<IsolatedAgentOptions>
    {
        private static readonly string Name = TypeNames.Of<TAgent>();

        public ValidateOptionsResult Validate(string? name, IsolatedAgentOptions options)
        {
            if (!string.Equals(name, Name, StringComparison.Ordinal))
            {
                return ValidateOptionsResult.Skip;
            }

            if (options.UsePool && !typeof(IResettable).IsAssignableFrom(typeof(TAgent)))
            {
                return ValidateOptionsResult.Fail(
                    $"Agent '{Name}' is configured with UsePool = true but does not implement Microsoft.Extensions.ObjectPool.IResettable. A pooled agent must clear its state in TryReset() before the next user gets it; implement IResettable or turn pooling off.");
            }

            if (options.MaximumRetained < 1 || options.MaximumRetained > IsolatedAgentOptions.MaxMaximumRetained)
            {
                return ValidateOptionsResult.Fail(
                    $"Agent '{Name}' has MaximumRetained = {options.MaximumRetained}; it must be from 1 to {IsolatedAgentOptions.MaxMaximumRetained}.");
            }

            return ValidateOptionsResult.Success;
        }
    }
}
