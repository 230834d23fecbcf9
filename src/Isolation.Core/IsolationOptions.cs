namespace Isolation;

/// <summary>
/// Options of the isolation runtime. Bound from the <c>Isolation</c> configuration section by
/// <c>services.AddIsolation(configuration)</c> and validated at startup.
/// </summary>
/// <example>
/// <code>
/// // appsettings.json
/// { "Isolation": { "Mode": "Observe", "LeakDetection": "Sampled", "LeakSamplingInterval": 64 } }
/// </code>
/// </example>
public sealed class IsolationOptions
{
    /// <summary>The configuration section the options bind from by default.</summary>
    public const string SectionName = "Isolation";

    internal const IsolationMode DefaultMode = IsolationMode.Enforce;
    internal const LeakDetectionLevel DefaultLeakDetection = LeakDetectionLevel.Sampled;
    internal const int DefaultLeakSamplingInterval = 128;
    internal const int MaxLeakSamplingInterval = 1_000_000;
    internal static readonly TimeSpan DefaultRetainedAgentGracePeriod = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan MaxDeadline = TimeSpan.FromDays(1);

    /// <summary>Gets or sets the mode of every scope, unless an <see cref="IIsolationModeProvider"/> is registered.</summary>
    /// <value>The default value is <see cref="IsolationMode.Enforce"/>.</value>
    public IsolationMode Mode { get; set; } = DefaultMode;

    /// <summary>Gets or sets how much leak tracking is done.</summary>
    /// <value>The default value is <see cref="LeakDetectionLevel.Sampled"/>.</value>
    public LeakDetectionLevel LeakDetection { get; set; } = DefaultLeakDetection;

    /// <summary>Gets or sets how many scopes share one tracked scope with <see cref="LeakDetectionLevel.Sampled"/> (1 tracks every scope). From 1 to 1,000,000.</summary>
    /// <value>The default value is 128.</value>
    public int LeakSamplingInterval { get; set; } = DefaultLeakSamplingInterval;

    /// <summary>
    /// Gets or sets how long after its scope ended an agent may still be reachable before it counts as retained
    /// (<see cref="ViolationKind.AgentLeak"/>). Leaves time for the code that ended the scope to finish. At least zero.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan RetainedAgentGracePeriod { get; set; } = DefaultRetainedAgentGracePeriod;

    /// <summary>Gets or sets the deadline of scopes created without one; <see langword="null"/> means no deadline. Positive and at most one day.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public TimeSpan? DefaultDeadline { get; set; }
}
