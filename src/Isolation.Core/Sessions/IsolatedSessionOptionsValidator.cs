using System.Globalization;
using Isolation.Internal;
using Microsoft.Extensions.Options;

namespace Isolation;

/// <summary>Validates the <see cref="IsolatedSessionOptions"/> of one session type, with messages that name the pool and the accepted range.</summary>
/// <typeparam name="TSession">The session type whose named options this validates.</typeparam>
internal sealed class IsolatedSessionOptionsValidator<TSession> : IValidateOptions<IsolatedSessionOptions>
{
    private static readonly string Name = TypeNames.Of<TSession>();

    public ValidateOptionsResult Validate(string? name, IsolatedSessionOptions options)
    {
        if (!string.Equals(name, Name, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        List<string>? failures = null;
        if (options.MaxSessions < 1 || options.MaxSessions > IsolatedSessionOptions.MaxMaxSessions)
        {
            (failures ??= new List<string>()).Add(string.Format(
                CultureInfo.InvariantCulture,
                "Session pool '{0}' has MaxSessions = {1}; it must be from 1 to {2}. Set it to how many sessions the database may have open at once for this application.",
                Name,
                options.MaxSessions,
                IsolatedSessionOptions.MaxMaxSessions));
        }

        if (options.AcquireTimeout <= TimeSpan.Zero || options.AcquireTimeout > IsolatedSessionOptions.MaxAcquireTimeout)
        {
            (failures ??= new List<string>()).Add(string.Format(
                CultureInfo.InvariantCulture,
                "Session pool '{0}' has AcquireTimeout = {1}; it must be positive and at most {2}. An infinite wait is not allowed: a request waiting for a session must fail instead of hanging.",
                Name,
                options.AcquireTimeout,
                IsolatedSessionOptions.MaxAcquireTimeout));
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
