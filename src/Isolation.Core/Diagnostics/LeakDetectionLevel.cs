namespace Isolation;

/// <summary>How much leak tracking is done, in the manner of Netty's leak detector.</summary>
public enum LeakDetectionLevel
{
    /// <summary>No leak tracking.</summary>
    Disabled = 0,

    /// <summary>One scope in <see cref="IsolationOptions.LeakSamplingInterval"/> is tracked, with everything it owns. Cheap enough for production.</summary>
    Sampled = 1,

    /// <summary>Every scope is tracked.</summary>
    Full = 2,

    /// <summary>Every scope is tracked and reports carry the stack trace where the leaked scope or resource was created.</summary>
    Paranoid = 3,
}
