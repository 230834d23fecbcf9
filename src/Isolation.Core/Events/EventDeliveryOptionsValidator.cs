using System.Globalization;
using Microsoft.Extensions.Options;

namespace Isolation;

/// <summary>Validates <see cref="EventDeliveryOptions"/> with messages that say which value is wrong and what is accepted.</summary>
internal sealed class EventDeliveryOptionsValidator : IValidateOptions<EventDeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, EventDeliveryOptions options)
    {
        List<string>? failures = null;

        if (options.QueueCapacity < 1 || options.QueueCapacity > EventDeliveryOptions.MaxQueueCapacity)
        {
            (failures ??= []).Add(string.Format(
                CultureInfo.InvariantCulture,
                "EventDeliveryOptions.QueueCapacity is {0}; it must be from 1 to {1} events per connection.",
                options.QueueCapacity,
                EventDeliveryOptions.MaxQueueCapacity));
        }

        if (!Enum.IsDefined(options.QueueFullMode))
        {
            (failures ??= []).Add(string.Format(
                CultureInfo.InvariantCulture,
                "EventDeliveryOptions.QueueFullMode is {0}, which is not a mode. Use DropOldest, DropNewest or CloseConnection.",
                (int)options.QueueFullMode));
        }

        if (options.SendTimeout <= TimeSpan.Zero || options.SendTimeout > EventDeliveryOptions.MaxSendTimeout)
        {
            (failures ??= []).Add(string.Format(
                CultureInfo.InvariantCulture,
                "EventDeliveryOptions.SendTimeout is {0}; it must be positive and at most {1}.",
                options.SendTimeout,
                EventDeliveryOptions.MaxSendTimeout));
        }

        if (options.MaxConnectionsPerUser < 1 || options.MaxConnectionsPerUser > EventDeliveryOptions.MaxMaxConnectionsPerUser)
        {
            (failures ??= []).Add(string.Format(
                CultureInfo.InvariantCulture,
                "EventDeliveryOptions.MaxConnectionsPerUser (Isolation:Events:MaxConnectionsPerUser) is {0}; it must be from 1 to {1} connections per user.",
                options.MaxConnectionsPerUser,
                EventDeliveryOptions.MaxMaxConnectionsPerUser));
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
