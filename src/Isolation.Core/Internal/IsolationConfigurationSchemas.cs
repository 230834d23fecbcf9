using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Internal;

/// <summary>What <c>AddIsolation(configuration)</c> reads: <c>Isolation</c>, <c>Isolation:Runner</c> and <c>Isolation:Events</c>. Documented in docs/runtime.md#configuration.</summary>
internal static class IsolationConfigurationSchemas
{
    public static OptionsSchema<IsolationOptions> Isolation { get; } = new(
        [
            OptionsSetting<IsolationOptions>.Enum<IsolationMode>(nameof(IsolationOptions.Mode), "a mode", static (o, v) => o.Mode = v),
            OptionsSetting<IsolationOptions>.Enum<LeakDetectionLevel>(nameof(IsolationOptions.LeakDetection), "a level", static (o, v) => o.LeakDetection = v),
            OptionsSetting<IsolationOptions>.Int32(nameof(IsolationOptions.LeakSamplingInterval), "from 1 (track every scope) to 1000000", static (o, v) => o.LeakSamplingInterval = v),
            OptionsSetting<IsolationOptions>.TimeSpan(nameof(IsolationOptions.RetainedAgentGracePeriod), "zero or more", static (o, v) => o.RetainedAgentGracePeriod = v),
            OptionsSetting<IsolationOptions>.TimeSpan(nameof(IsolationOptions.DefaultDeadline), "positive, at most 1.00:00:00, or empty for no deadline", static (o, v) => o.DefaultDeadline = v),
        ],
        [IsolationServiceCollectionExtensions.RunnerSectionName, IsolationServiceCollectionExtensions.EventsSectionName],
        otherSectionsAllowed: true);

    public static OptionsSchema<IsolatedRunnerOptions> Runner { get; } = new(
        [
            OptionsSetting<IsolatedRunnerOptions>.TimeSpan(nameof(IsolatedRunnerOptions.DefaultDeadline), "positive, at most 1.00:00:00", static (o, v) => o.DefaultDeadline = v),
            OptionsSetting<IsolatedRunnerOptions>.Int32(nameof(IsolatedRunnerOptions.MaxConcurrentRunsPerUser), "from 1 to 10000", static (o, v) => o.MaxConcurrentRunsPerUser = v),
            OptionsSetting<IsolatedRunnerOptions>.Int32(nameof(IsolatedRunnerOptions.QueuedRunsPerUser), "from 0 (reject at once) to 10000", static (o, v) => o.QueuedRunsPerUser = v),
            OptionsSetting<IsolatedRunnerOptions>.TimeSpan(nameof(IsolatedRunnerOptions.AbandonedWorkTimeout), "positive", static (o, v) => o.AbandonedWorkTimeout = v),
            OptionsSetting<IsolatedRunnerOptions>.Int32(nameof(IsolatedRunnerOptions.MaxAbandonedRuns), "from 1 to 100000", static (o, v) => o.MaxAbandonedRuns = v),
            OptionsSetting<IsolatedRunnerOptions>.Text(nameof(IsolatedRunnerOptions.FailureMessage), "Use a message that is safe to show to the user.", static (o, v) => o.FailureMessage = v),
        ],
        [],
        otherSectionsAllowed: false);

    public static OptionsSchema<EventDeliveryOptions> Events { get; } = new(
        [
            OptionsSetting<EventDeliveryOptions>.Int32(nameof(EventDeliveryOptions.QueueCapacity), "from 1 to 100000", static (o, v) => o.QueueCapacity = v),
            OptionsSetting<EventDeliveryOptions>.Enum<EventQueueFullMode>(nameof(EventDeliveryOptions.QueueFullMode), "a mode", static (o, v) => o.QueueFullMode = v),
            OptionsSetting<EventDeliveryOptions>.TimeSpan(nameof(EventDeliveryOptions.SendTimeout), "positive, at most 00:10:00", static (o, v) => o.SendTimeout = v),
            OptionsSetting<EventDeliveryOptions>.Int32(nameof(EventDeliveryOptions.MaxConnectionsPerUser), "from 1 to 10000", static (o, v) => o.MaxConnectionsPerUser = v),
            OptionsSetting<EventDeliveryOptions>.CodeOnly(nameof(EventDeliveryOptions.PayloadTypeInfoResolver), "Set it in code: services.Configure<EventDeliveryOptions>(o => o.PayloadTypeInfoResolver = MyJsonContext.Default)."),
        ],
        [],
        otherSectionsAllowed: false);
}
