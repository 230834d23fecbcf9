using System.Globalization;
using Microsoft.Extensions.Options;

namespace Isolation;

/// <summary>Validates <see cref="IsolationOptions"/> at startup with messages that say which value is wrong and what is accepted.</summary>
internal sealed class IsolationOptionsValidator : IValidateOptions<IsolationOptions>
{
    public ValidateOptionsResult Validate(string? name, IsolationOptions options)
    {
        List<string>? failures = null;

        if (!Enum.IsDefined(options.Mode))
        {
            Add(ref failures, $"Isolation:Mode is {(int)options.Mode}, which is not a mode. Use Off, Observe or Enforce.");
        }

        if (!Enum.IsDefined(options.LeakDetection))
        {
            Add(ref failures, $"Isolation:LeakDetection is {(int)options.LeakDetection}, which is not a level. Use Disabled, Sampled, Full or Paranoid.");
        }

        if (options.LeakSamplingInterval < 1 || options.LeakSamplingInterval > IsolationOptions.MaxLeakSamplingInterval)
        {
            Add(ref failures, string.Format(
                CultureInfo.InvariantCulture,
                "Isolation:LeakSamplingInterval is {0}; it must be from 1 (track every scope) to {1}.",
                options.LeakSamplingInterval,
                IsolationOptions.MaxLeakSamplingInterval));
        }

        if (options.RetainedAgentGracePeriod < TimeSpan.Zero)
        {
            Add(ref failures, $"Isolation:RetainedAgentGracePeriod is {options.RetainedAgentGracePeriod}; it must be zero or positive.");
        }

        if (options.DefaultDeadline is { } deadline && (deadline <= TimeSpan.Zero || deadline > IsolationOptions.MaxDeadline))
        {
            Add(ref failures, $"Isolation:DefaultDeadline is {deadline}; it must be positive and at most {IsolationOptions.MaxDeadline} (or unset for no deadline).");
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Add(ref List<string>? failures, string failure) => (failures ??= new List<string>()).Add(failure);
}
