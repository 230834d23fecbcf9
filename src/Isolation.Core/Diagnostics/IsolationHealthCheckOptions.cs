using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Isolation;

/// <summary>Options of the <c>isolation</c> health check, given to <c>AddIsolationHealthCheck(o => …)</c>.</summary>
public sealed class IsolationHealthCheckOptions
{
    internal const int DefaultMinimumCreationSamples = 20;
    internal static readonly TimeSpan DefaultViolationWindow = TimeSpan.FromMinutes(1);
    internal static readonly TimeSpan DefaultAgentCreationBudget = TimeSpan.FromMilliseconds(10);

    /// <summary>Gets or sets how long after a violation (or leak) the check reports <see cref="FailureStatus"/>. Positive.</summary>
    /// <value>The default value is one minute.</value>
    public TimeSpan ViolationWindow { get; set; } = DefaultViolationWindow;

    /// <summary>
    /// Gets or sets the status the check reports while a violation is within <see cref="ViolationWindow"/>. One user's
    /// buggy request path makes every instance report it: keep the check off load-balancer readiness probes (it carries
    /// the tag <c>isolation</c>), or set <see cref="HealthStatus.Degraded"/>.
    /// </summary>
    /// <value>The default value is <see cref="HealthStatus.Unhealthy"/>.</value>
    public HealthStatus FailureStatus { get; set; } = HealthStatus.Unhealthy;

    /// <summary>Gets or sets the 95th percentile of agent creation time above which the check is Degraded. Positive.</summary>
    /// <value>The default value is 10 milliseconds.</value>
    public TimeSpan AgentCreationBudget { get; set; } = DefaultAgentCreationBudget;

    /// <summary>Gets or sets how many recent agent creations are needed before the percentile is judged (1 to 1,024).</summary>
    /// <value>The default value is 20.</value>
    public int MinimumCreationSamples { get; set; } = DefaultMinimumCreationSamples;
}
