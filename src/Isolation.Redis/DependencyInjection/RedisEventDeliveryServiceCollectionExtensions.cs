using Isolation;
using Isolation.Redis;
using Isolation.Redis.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers cross-node event delivery on Redis.</summary>
public static class RedisEventDeliveryServiceCollectionExtensions
{
    /// <summary>
    /// Delivers agent events across the nodes of a deployment through Redis, with options bound from
    /// <paramref name="configuration"/> (typically <c>builder.Configuration.GetSection("Isolation:Redis")</c>). Replaces
    /// <see cref="IConnectionRegistry"/> with <see cref="RedisConnectionRegistry"/> and starts with the host. Adds the
    /// isolation runtime when needed. Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section of <see cref="RedisEventDeliveryOptions"/>.</param>
    /// <returns>The service collection.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddIsolation().AddRedisEventDelivery(builder.Configuration.GetSection("Isolation:Redis"));
    /// builder.Services.AddHealthChecks().AddIsolationRedisHealthCheck();
    /// </code>
    /// </example>
    public static IServiceCollection AddRedisEventDelivery(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services);
        services.Configure<RedisEventDeliveryOptions>(configuration);
        return services;
    }

    /// <summary>Delivers agent events across nodes through Redis (see the other overload), with options set in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; validated when the registry is first built or the host starts.</param>
    /// <returns>The service collection.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddIsolation().AddRedisEventDelivery(o =>
    /// {
    ///     o.Configuration = "redis-1:6379,password=...";
    ///     o.EnvironmentPrefix = "chat-prod";
    ///     o.SigningKey = builder.Configuration["Secrets:IsolationRedisKey"];
    /// });
    /// </code>
    /// </example>
    public static IServiceCollection AddRedisEventDelivery(this IServiceCollection services, Action<RedisEventDeliveryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        AddCore(services);
        services.Configure(configure);
        return services;
    }

    private static void AddCore(IServiceCollection services)
    {
        services.AddIsolation();
        if (services.Any(d => d.ServiceType == typeof(RedisBackplane)))
        {
            return;
        }

        services.AddOptions<RedisEventDeliveryOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisEventDeliveryOptions>, RedisEventDeliveryOptionsValidator>());
        services.AddSingleton(static sp => new RedisBackplane(
            sp.GetRequiredService<IOptions<RedisEventDeliveryOptions>>(),
            sp.GetRequiredService<IOptions<EventDeliveryOptions>>(),
            sp.GetRequiredService<ConnectionRegistry>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetService<ILoggerFactory>()));
        services.AddSingleton<IHostedService>(static sp => sp.GetRequiredService<RedisBackplane>());
        services.AddSingleton(static sp => new RedisConnectionRegistry(
            sp.GetRequiredService<ConnectionRegistry>(),
            sp.GetRequiredService<RedisBackplane>()));
        services.Replace(ServiceDescriptor.Singleton<IConnectionRegistry>(static sp => sp.GetRequiredService<RedisConnectionRegistry>()));
    }
}
