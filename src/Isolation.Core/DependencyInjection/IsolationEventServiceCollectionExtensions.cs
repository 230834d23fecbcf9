using Isolation;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <content>The event routing services: the connection registry, its options and the dropped-events counter.</content>
public static partial class IsolationServiceCollectionExtensions
{
    static partial void AddEventCore(IServiceCollection services)
    {
        services.AddOptions<EventDeliveryOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EventDeliveryOptions>, EventDeliveryOptionsValidator>());
        services.TryAddSingleton(static sp => new EventMetrics(sp.GetRequiredService<IsolationMonitor>()));
        services.TryAddSingleton(static sp => new ConnectionRegistry(
            sp.GetRequiredService<EventMetrics>(),
            sp.GetRequiredService<IOptions<EventDeliveryOptions>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IConnectionRegistry>(static sp => sp.GetRequiredService<ConnectionRegistry>());
    }
}
