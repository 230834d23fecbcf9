using Microsoft.Extensions.Options;

namespace ChatServer.Rollout;

/// <summary>Rejects percentages outside 0–100 or adding up to more than 100, naming the values.</summary>
internal sealed class RolloutOptionsValidator : IValidateOptions<RolloutOptions>
{
    public ValidateOptionsResult Validate(string? name, RolloutOptions options)
    {
        if (options.EnforcePercent is < 0 or > 100)
        {
            return ValidateOptionsResult.Fail($"Isolation:Rollout:EnforcePercent is {options.EnforcePercent}; it must be from 0 to 100.");
        }

        if (options.ObservePercent is < 0 or > 100)
        {
            return ValidateOptionsResult.Fail($"Isolation:Rollout:ObservePercent is {options.ObservePercent}; it must be from 0 to 100.");
        }

        if (options.EnforcePercent + options.ObservePercent > 100)
        {
            return ValidateOptionsResult.Fail(
                $"Isolation:Rollout:EnforcePercent ({options.EnforcePercent}) + ObservePercent ({options.ObservePercent}) is more than 100; lower ObservePercent as EnforcePercent grows.");
        }

        return ValidateOptionsResult.Success;
    }
}
