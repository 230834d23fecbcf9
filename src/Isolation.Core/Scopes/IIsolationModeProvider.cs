namespace Isolation;

/// <summary>
/// Chooses the <see cref="IsolationMode"/> of each new scope, so a feature flag or a sticky per-user rollout can drive it.
/// </summary>
/// <remarks>Called once per scope on the hot path: keep it allocation-free and fast.</remarks>
/// <example>
/// <code>
/// sealed class TenPercentEnforce : IIsolationModeProvider
/// {
///     public IsolationMode GetMode(UserExecutionContext context) =>
///         (uint)StableHash(context.UserId) % 100 &lt; 10 ? IsolationMode.Enforce : IsolationMode.Observe;
/// }
/// services.AddSingleton&lt;IIsolationModeProvider, TenPercentEnforce&gt;();
/// </code>
/// </example>
public interface IIsolationModeProvider
{
    /// <summary>Returns the mode for a scope created for <paramref name="context"/>.</summary>
    /// <param name="context">The context of the scope being created.</param>
    /// <returns>The scope's mode.</returns>
    IsolationMode GetMode(UserExecutionContext context);
}
