using Isolation.Redis.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the <c>isolation_redis</c> health check.</summary>
public static class RedisEventDeliveryHealthChecksBuilderExtensions
{
    /// <summary>The name of the health check registration: <c>isolation_redis</c>.</summary>
    public const string HealthCheckName = "isolation_redis";

    /// <summary>
    /// Adds the <c>isolation_redis</c> health check: Healthy while events can reach other nodes, Degraded while Redis is
    /// unavailable (remote events are dropped and counted, local delivery continues). Call <c>AddRedisEventDelivery</c> too.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <returns>The builder.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHealthChecks().AddIsolationRedisHealthCheck();
    /// app.MapHealthChecks("/health");
    /// </code>
    /// </example>
    public static IHealthChecksBuilder AddIsolationRedisHealthCheck(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(RedisBackplaneHealthCheck)))
        {
            return builder;
        }

        builder.Services.AddSingleton<RedisBackplaneHealthCheck>();
        return builder.Add(new HealthCheckRegistration(
            HealthCheckName,
            sp => sp.GetService<RedisBackplane>() is { } backplane
                ? sp.GetRequiredService<RedisBackplaneHealthCheck>()
                : throw new InvalidOperationException("The isolation_redis health check needs Redis event delivery: call services.AddRedisEventDelivery(...) as well."),
            failureStatus: HealthStatus.Degraded,
            tags: new[] { "isolation", HealthCheckName }));
    }
}
