using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Isolation.Tests.Events;

public sealed class EventDeliveryOptionsTests
{
    [Fact]
    public void Defaults_AreDocumentedValues()
    {
        var options = new EventDeliveryOptions();

        Assert.Equal(256, options.QueueCapacity);
        Assert.Equal(EventQueueFullMode.DropOldest, options.QueueFullMode);
        Assert.Equal(TimeSpan.FromSeconds(10), options.SendTimeout);
        Assert.Null(options.PayloadTypeInfoResolver);
    }

    [Theory]
    [InlineData(0, EventQueueFullMode.DropOldest, 10, "QueueCapacity is 0")]
    [InlineData(100_001, EventQueueFullMode.DropOldest, 10, "QueueCapacity is 100001")]
    [InlineData(8, (EventQueueFullMode)7, 10, "QueueFullMode is 7")]
    [InlineData(8, EventQueueFullMode.DropNewest, 0, "SendTimeout is 00:00:00")]
    [InlineData(8, EventQueueFullMode.DropNewest, 601, "SendTimeout is 00:10:01")]
    public async Task Registry_InvalidOptions_FailsWithMessageNamingTheValue(int capacity, EventQueueFullMode mode, int timeoutSeconds, string expected)
    {
        await using var provider = new ServiceCollection()
            .AddIsolation()
            .Configure<EventDeliveryOptions>(o =>
            {
                o.QueueCapacity = capacity;
                o.QueueFullMode = mode;
                o.SendTimeout = TimeSpan.FromSeconds(timeoutSeconds);
            })
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IConnectionRegistry>());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddIsolation_CalledTwice_RegistersOneRegistry()
    {
        var services = new ServiceCollection().AddIsolation().AddIsolation();
        await using var provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(IConnectionRegistry));
        Assert.Same(provider.GetRequiredService<IConnectionRegistry>(), provider.GetRequiredService<ConnectionRegistry>());
    }
}
