namespace Isolation;

/// <summary>Options of one agent type, given to <c>services.AddIsolatedAgent&lt;TAgent&gt;(o => …)</c>.</summary>
public sealed class IsolatedAgentOptions
{
    internal const int DefaultMaximumRetained = 64;
    internal const int MaxMaximumRetained = 100_000;

    /// <summary>
    /// Gets or sets a value indicating whether instances come from a pool instead of being created per scope. The agent must implement
    /// <see cref="Microsoft.Extensions.ObjectPool.IResettable"/>: it is reset when its scope ends and discarded when the reset fails.
    /// Pooled agents are activated with the root service provider, so they cannot depend on scoped services.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool UsePool { get; set; }

    /// <summary>Gets or sets how many idle pooled instances are kept (1 to 100,000). Only with <see cref="UsePool"/>.</summary>
    /// <value>The default value is 64.</value>
    public int MaximumRetained { get; set; } = DefaultMaximumRetained;
}
