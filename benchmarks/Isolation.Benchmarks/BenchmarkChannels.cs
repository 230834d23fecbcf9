using System.Threading.Channels;

namespace Isolation.Benchmarks;

/// <summary>Channels with the settings of a <see cref="WebSocketEventSink"/> queue under the default options.</summary>
public static class BenchmarkChannels
{
    /// <summary>The default <c>EventDeliveryOptions.QueueCapacity</c>.</summary>
    public const int Capacity = 256;

    public static Channel<T> Create<T>() => Channel.CreateBounded<T>(new BoundedChannelOptions(Capacity)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
        SingleWriter = false,
        AllowSynchronousContinuations = false,
    });
}
