using Isolation;
using Isolation.AspNetCore.FeatureManagement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Drives isolation modes from a <c>Microsoft.FeatureManagement</c> variant feature flag.</summary>
public static class IsolationFeatureManagementServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="FeatureFlagModeProvider"/> as the <see cref="IIsolationModeProvider"/>: each scope's mode comes
    /// from the variant the flag <c>Isolation.Mode</c> assigns its user. Call <c>services.AddFeatureManagement()</c> too
    /// (it reads the flag from the <c>feature_management</c> configuration section). Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddIsolationFeatureManagement(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(FeatureFlagModeProvider)))
        {
            return services;
        }

        services.AddIsolation();
        services.AddOptions<IsolationFeatureOptions>()
            .Validate(o => !string.IsNullOrWhiteSpace(o.FeatureName), "IsolationFeatureOptions.FeatureName must name the variant feature flag (default \"Isolation.Mode\").")
            .Validate(o => o.CacheDuration > TimeSpan.Zero, "IsolationFeatureOptions.CacheDuration must be positive (default 30 seconds).")
            .Validate(o => Enum.IsDefined(o.FallbackMode), "IsolationFeatureOptions.FallbackMode must be Off, Observe or Enforce.")
            .Validate(o => o.MaxCachedUsers > 0, "IsolationFeatureOptions.MaxCachedUsers must be positive (default 100,000).")
            .ValidateOnStart();
        services.AddSingleton(static sp => new FeatureFlagModeProvider(
            sp.GetService<IVariantFeatureManager>() ?? throw new InvalidOperationException(
                "AddIsolationFeatureManagement() needs Microsoft.FeatureManagement: call services.AddFeatureManagement() as well, and define the variant flag 'Isolation.Mode' under feature_management in configuration."),
            sp.GetRequiredService<IOptions<IsolationFeatureOptions>>().Value,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILoggerFactory>()));
        services.AddSingleton<IIsolationModeProvider>(static sp => sp.GetRequiredService<FeatureFlagModeProvider>());
        return services;
    }

    /// <summary>Registers <see cref="FeatureFlagModeProvider"/> (see <see cref="AddIsolationFeatureManagement(IServiceCollection)"/>) and configures it.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options, e.g. the flag name or the users' groups.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddIsolationFeatureManagement(this IServiceCollection services, Action<IsolationFeatureOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddIsolationFeatureManagement(services);
        services.Configure(configure);
        return services;
    }
}
