namespace Isolation;

/// <summary>Creates agents of type <typeparamref name="TAgent"/> owned by a scope. Registered by <c>services.AddIsolatedAgent&lt;TAgent&gt;()</c>.</summary>
/// <typeparam name="TAgent">The agent type.</typeparam>
public interface IAgentFactory<out TAgent>
    where TAgent : class
{
    /// <summary>
    /// Returns an agent owned by <paramref name="scope"/>: a new instance activated through DI with the scope's
    /// services, or one rented from the agent's pool and reset. The scope disposes or returns it when it ends.
    /// </summary>
    /// <param name="scope">The live scope that will own the agent.</param>
    /// <returns>The agent.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="scope"/> is null.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="scope"/> has been disposed.</exception>
    /// <exception cref="IsolationViolationException">In <see cref="IsolationMode.Enforce"/>, a custom factory returned an instance already handed to another scope.</exception>
    TAgent Create(IsolationScope scope);
}
