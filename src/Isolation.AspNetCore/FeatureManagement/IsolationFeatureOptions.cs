namespace Isolation.AspNetCore.FeatureManagement;

/// <summary>
/// Options of <see cref="FeatureFlagModeProvider"/>: the variant feature flag that assigns each user an
/// <see cref="IsolationMode"/>, how long an evaluated mode is reused, and the mode a user has before the first evaluation.
/// </summary>
public sealed class IsolationFeatureOptions
{
    /// <summary>The default feature flag name: <c>Isolation.Mode</c>.</summary>
    public const string DefaultFeatureName = "Isolation.Mode";

    /// <summary>Gets or sets the variant feature flag whose variant names (or configuration values) are <c>Off</c>, <c>Observe</c> or <c>Enforce</c>.</summary>
    /// <value>The default value is <c>Isolation.Mode</c>.</value>
    public string FeatureName { get; set; } = DefaultFeatureName;

    /// <summary>
    /// Gets or sets how long a user's evaluated mode is reused. When it is older, the next scope still gets it and a new
    /// evaluation starts in the background; the scopes after that get the new mode. Positive.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the mode of a user whose first evaluation has not finished yet, and of a user the flag assigns no
    /// variant (or a variant that is no mode). A failed evaluation keeps the user's current mode.
    /// </summary>
    /// <value>The default value is <see cref="IsolationMode.Observe"/> (checked and reported, never thrown).</value>
    public IsolationMode FallbackMode { get; set; } = IsolationMode.Observe;

    /// <summary>Gets or sets how many users' modes are cached; when more users arrive the cache is emptied and refills. Positive.</summary>
    /// <value>The default value is 100,000.</value>
    public int MaxCachedUsers { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets the groups of a user, for the flag's <c>group</c> allocation (e.g. <c>internal</c>); called in the
    /// background evaluation, never on the request path. <see langword="null"/> means no groups.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public Func<string, IEnumerable<string>>? GetGroups { get; set; }
}
