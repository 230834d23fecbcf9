using Isolation;
using Microsoft.Extensions.Options;

namespace ChatServer.Rollout;

/// <summary>
/// Picks each scope's <see cref="IsolationMode"/> from the user's bucket (see <see cref="RolloutOptions"/>): the same user
/// always lands in the same bucket, so a user's mode is sticky across requests, connections, restarts and machines,
/// and changes only when the configured percentages move past their bucket. Reads the options on every call, so a
/// configuration reload takes effect for the next scope.
/// </summary>
public sealed class RolloutModeProvider : IIsolationModeProvider
{
    private readonly IOptionsMonitor<RolloutOptions> _options;

    public RolloutModeProvider(IOptionsMonitor<RolloutOptions> options) => _options = options;

    public IsolationMode GetMode(UserExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = _options.CurrentValue;
        var bucket = Bucket(context.UserId, options.Salt);
        if (bucket < options.EnforcePercent)
        {
            return IsolationMode.Enforce;
        }

        return bucket < options.EnforcePercent + options.ObservePercent ? IsolationMode.Observe : IsolationMode.Off;
    }

    /// <summary>
    /// Returns the user's bucket, 0 to 99: FNV-1a (32 bit) over the salt and the user id's UTF-16 code units, then mixed. Stable
    /// across processes and .NET versions, unlike <see cref="string.GetHashCode()"/>, which is randomized per process.
    /// </summary>
    public static int Bucket(string userId, string salt)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentNullException.ThrowIfNull(salt);
        const uint OffsetBasis = 2166136261;
        const uint Prime = 16777619;
        var hash = OffsetBasis;
        foreach (var c in salt)
        {
            hash = (hash ^ c) * Prime;
        }

        // A separator, so salt "a" + user "bc" and salt "ab" + user "c" do not collide by construction.
        hash = (hash ^ 0xFFFF) * Prime;
        foreach (var c in userId)
        {
            hash = (hash ^ c) * Prime;
        }

        // Murmur3's finalizer: sequential ids ("user-1", "user-2", …) differ in their last character only; mixing spreads them evenly.
        hash ^= hash >> 16;
        hash *= 0x85EBCA6B;
        hash ^= hash >> 13;
        hash *= 0xC2B2AE35;
        hash ^= hash >> 16;
        return (int)(hash % 100);
    }
}
