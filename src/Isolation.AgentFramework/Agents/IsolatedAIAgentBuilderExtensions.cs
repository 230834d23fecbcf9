using Isolation.AgentFramework;

namespace Microsoft.Agents.AI;

/// <summary>Adds <see cref="IsolatedAIAgent"/> to an Agent Framework agent pipeline.</summary>
public static class IsolatedAIAgentBuilderExtensions
{
    /// <summary>
    /// Runs the agent inside the current <see cref="Isolation.IsolationScope"/> (<see cref="IsolatedAIAgent"/>). Call it after
    /// <c>UseOpenTelemetry()</c> so the framework's <c>invoke_agent</c> span is the one enriched.
    /// </summary>
    /// <param name="builder">The agent builder.</param>
    /// <param name="configure">Configures the options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static AIAgentBuilder UseIsolation(this AIAgentBuilder builder, Action<IsolatedAIAgentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new IsolatedAIAgentOptions();
        configure?.Invoke(options);
        return builder.Use(inner => new IsolatedAIAgent(inner, options));
    }

    /// <summary>Wraps an agent in <see cref="IsolatedAIAgent"/>.</summary>
    /// <param name="agent">The agent.</param>
    /// <param name="configure">Configures the options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The decorated agent.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="agent"/> is <see langword="null"/>.</exception>
    public static IsolatedAIAgent AsIsolated(this AIAgent agent, Action<IsolatedAIAgentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(agent);
        var options = new IsolatedAIAgentOptions();
        configure?.Invoke(options);
        return new IsolatedAIAgent(agent, options);
    }
}
