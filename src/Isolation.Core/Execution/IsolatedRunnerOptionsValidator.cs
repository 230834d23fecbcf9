using Microsoft.Extensions.Options;

namespace Isolation.Execution;

/// <summary>Validates <see cref="IsolatedRunnerOptions"/> at startup, naming each bad value and what is accepted.</summary>
internal sealed class IsolatedRunnerOptionsValidator : IValidateOptions<IsolatedRunnerOptions>
{
    private const int MaxPerUser = 10_000;

    public ValidateOptionsResult Validate(string? name, IsolatedRunnerOptions options)
    {
        var failures = new List<string>();
        if (options.DefaultDeadline <= TimeSpan.Zero || options.DefaultDeadline > IsolationOptions.MaxDeadline)
        {
            failures.Add($"Isolation:Runner:DefaultDeadline is {options.DefaultDeadline}; it must be positive and at most {IsolationOptions.MaxDeadline}.");
        }

        if (options.MaxConcurrentRunsPerUser is < 1 or > MaxPerUser)
        {
            failures.Add($"Isolation:Runner:MaxConcurrentRunsPerUser is {options.MaxConcurrentRunsPerUser}; it must be from 1 to {MaxPerUser}.");
        }

        if (options.QueuedRunsPerUser is < 0 or > MaxPerUser)
        {
            failures.Add($"Isolation:Runner:QueuedRunsPerUser is {options.QueuedRunsPerUser}; it must be from 0 (reject at once) to {MaxPerUser}.");
        }

        if (options.AbandonedWorkTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Isolation:Runner:AbandonedWorkTimeout is {options.AbandonedWorkTimeout}; it must be positive.");
        }

        if (options.MaxAbandonedRuns is < 1 or > IsolatedRunnerOptions.MaxMaxAbandonedRuns)
        {
            failures.Add($"Isolation:Runner:MaxAbandonedRuns is {options.MaxAbandonedRuns}; it must be from 1 to {IsolatedRunnerOptions.MaxMaxAbandonedRuns}.");
        }

        if (string.IsNullOrWhiteSpace(options.FailureMessage))
        {
            failures.Add("Isolation:Runner:FailureMessage is empty; users need a message when their run fails (the exception itself is only logged).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
