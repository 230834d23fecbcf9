using System.Globalization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Isolation.Redis.Internal;

/// <summary>Validates <see cref="RedisEventDeliveryOptions"/>: every failure says which option, what was wrong and how to fix it.</summary>
internal sealed class RedisEventDeliveryOptionsValidator : IValidateOptions<RedisEventDeliveryOptions>
{
    private const string Section = "Isolation:Redis";

    public ValidateOptionsResult Validate(string? name, RedisEventDeliveryOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Configuration))
        {
            failures.Add($"{Section}:Configuration is required: the StackExchange.Redis configuration string of the Redis every node shares, e.g. \"redis-1:6379,password=...\".");
        }
        else
        {
            try
            {
                _ = ConfigurationOptions.Parse(options.Configuration);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"{Section}:Configuration is not a valid StackExchange.Redis configuration string: {ex.Message}");
            }
        }

        if (string.IsNullOrWhiteSpace(options.EnvironmentPrefix))
        {
            failures.Add($"{Section}:EnvironmentPrefix is required: a name for this deployment (e.g. \"chat-prod\") that every Redis key and channel carries, so two applications or environments sharing one Redis never mix.");
        }
        else if (options.EnvironmentPrefix.Length > RedisEventDeliveryOptions.MaximumPrefixLength)
        {
            failures.Add(string.Format(CultureInfo.InvariantCulture, "{0}:EnvironmentPrefix must be at most {1} characters; got {2}.", Section, RedisEventDeliveryOptions.MaximumPrefixLength, options.EnvironmentPrefix.Length));
        }

        if (options.NodeId is not null && (string.IsNullOrWhiteSpace(options.NodeId) || options.NodeId.Length > RedisEventDeliveryOptions.MaximumNodeIdLength))
        {
            failures.Add(string.Format(CultureInfo.InvariantCulture, "{0}:NodeId must be 1 to {1} non-blank characters, unique among the running nodes; leave it unset to get a fresh one per process.", Section, RedisEventDeliveryOptions.MaximumNodeIdLength));
        }

        CheckKey(options.SigningKey, $"{Section}:SigningKey", required: true, failures);
        for (var i = 0; i < options.PreviousSigningKeys.Count; i++)
        {
            CheckKey(options.PreviousSigningKeys[i], string.Format(CultureInfo.InvariantCulture, "{0}:PreviousSigningKeys:{1}", Section, i), required: true, failures);
        }

        if (options.PresenceTtl < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{Section}:PresenceTtl must be at least 1 second; got {options.PresenceTtl}.");
        }

        if (options.PresenceRefreshInterval <= TimeSpan.Zero || options.PresenceRefreshInterval > options.PresenceTtl / 2)
        {
            failures.Add($"{Section}:PresenceRefreshInterval must be positive and at most half of PresenceTtl ({options.PresenceTtl}), so one missed refresh does not expire a live node; got {options.PresenceRefreshInterval}.");
        }

        if (options.PresenceCacheDuration < TimeSpan.Zero || options.PresenceCacheDuration >= options.PresenceTtl)
        {
            failures.Add($"{Section}:PresenceCacheDuration must be zero or more and less than PresenceTtl ({options.PresenceTtl}); got {options.PresenceCacheDuration}.");
        }

        if (options.MaxMessageAge < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{Section}:MaxMessageAge must be at least 1 second (it also absorbs clock skew between nodes); got {options.MaxMessageAge}.");
        }

        if (options.OutboundQueueCapacity is < 1 or > 1_000_000)
        {
            failures.Add(string.Format(CultureInfo.InvariantCulture, "{0}:OutboundQueueCapacity must be from 1 to 1,000,000; got {1}.", Section, options.OutboundQueueCapacity));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Decodes a base64 key; the validator has already accepted it.</summary>
    public static byte[] DecodeKey(string key) => Convert.FromBase64String(key.Trim());

    private static void CheckKey(string? key, string name, bool required, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            if (required)
            {
                failures.Add($"{name} is required: a base64 string of at least {RedisEventDeliveryOptions.MinimumKeyBytes} random bytes, the same on every node (generate one with 'openssl rand -base64 32').");
            }

            return;
        }

        byte[] bytes;
        try
        {
            bytes = DecodeKey(key);
        }
        catch (FormatException)
        {
            failures.Add($"{name} is not valid base64. Generate a key with 'openssl rand -base64 32' and paste its output.");
            return;
        }

        if (bytes.Length is < RedisEventDeliveryOptions.MinimumKeyBytes or > RedisEventDeliveryOptions.MaximumKeyBytes)
        {
            failures.Add(string.Format(
                CultureInfo.InvariantCulture,
                "{0} must decode to {1} to {2} bytes; got {3}. Generate a key with 'openssl rand -base64 32'.",
                name,
                RedisEventDeliveryOptions.MinimumKeyBytes,
                RedisEventDeliveryOptions.MaximumKeyBytes,
                bytes.Length));
        }
    }
}
