using Isolation;
using Isolation.Diagnostics;
using Isolation.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the <c>isolation</c> health check.</summary>
public static class IsolationHealthChecksBuilderExtensions
{
    /// <summary>The name of the health check registration: <c>isolation</c>.</summary>
    public const string HealthCheckName = "isolation";

    /// <summary>
    /// Adds the <c>isolation</c> health check, tagged <c>isolation</c>, with its defaults: Unhealthy for a minute after any
    /// violation or leak, Degraded while the 95th percentile of agent creation exceeds 10 ms. Adds the isolation runtime
    /// if needed. Keep it off a load balancer's readiness probe (one user's violation would take every instance out of
    /// rotation): map it on an endpoint of its own.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <returns>The builder.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHealthChecks().AddIsolationHealthCheck();
    /// app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => !check.Tags.Contains("isolation") });
    /// app.MapHealthChecks("/health/isolation", new HealthCheckOptions { Predicate = check => check.Tags.Contains("isolation") });
    /// </code>
    /// </example>
    public static IHealthChecksBuilder AddIsolationHealthCheck(this IHealthChecksBuilder builder) =>
        AddCheck(Guard.NotNull(builder), configure: null);

    /// <summary>Adds the <c>isolation</c> health check with options.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="configure">Configures the window and budget.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddIsolationHealthCheck(this IHealthChecksBuilder builder, Action<IsolationHealthCheckOptions> configure)
    {
        Guard.NotNull(builder);
        Guard.NotNull(configure);
        return AddCheck(builder, configure);
    }

    private static IHealthChecksBuilder AddCheck(IHealthChecksBuilder builder, Action<IsolationHealthCheckOptions>? configure)
    {
        var services = builder.Services;
        services.AddIsolation();
        var options = services.AddOptions<IsolationHealthCheckOptions>(HealthCheckName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.ViolationWindow > TimeSpan.Zero, "IsolationHealthCheckOptions.ViolationWindow must be positive.")
            .Validate(o => o.AgentCreationBudget > TimeSpan.Zero, "IsolationHealthCheckOptions.AgentCreationBudget must be positive.")
            .Validate(o => Enum.IsDefined(o.FailureStatus), "IsolationHealthCheckOptions.FailureStatus must be Unhealthy, Degraded or Healthy.")
            .Validate(o => o.MinimumCreationSamples is >= 1 and <= 1024, "IsolationHealthCheckOptions.MinimumCreationSamples must be from 1 to 1024 (the number of recent creations kept).")
            .ValidateOnStart();

        // The marker also tells the monitor to keep recent agent creation times; its presence means the check is registered.
        if (!services.Any(d => d.ServiceType == typeof(IsolationHealthCheckMarker)))
        {
            services.AddSingleton<IsolationHealthCheckMarker>();
            builder.Add(new HealthCheckRegistration(
                HealthCheckName,
                sp => new IsolationHealthCheck(
                    sp.GetRequiredService<IsolationMonitor>(),
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<IOptionsMonitor<IsolationHealthCheckOptions>>()),
                failureStatus: null,
                tags: new[] { HealthCheckName }));
        }

        return builder;
    }
}
