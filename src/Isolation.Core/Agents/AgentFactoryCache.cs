namespace Isolation;

/// <summary>
/// The library's factory of <typeparamref name="TAgent"/> in the container that asked last, so that
/// <see cref="IsolationScope.GetAgent{TAgent}"/> skips the service lookup. Only the built-in factory is kept: it is a
/// singleton of its container (<c>AddIsolatedAgent</c> registers it so), where an application's own
/// <see cref="IAgentFactory{TAgent}"/> may have any lifetime and is looked up every time.
/// </summary>
/// <typeparam name="TAgent">The agent type.</typeparam>
internal static class AgentFactoryCache<TAgent>
    where TAgent : class
{
    private static Entry? _last;

    /// <summary>Gets the built-in factory cached for the container of <paramref name="owner"/>, or <see langword="null"/>.</summary>
    public static IAgentFactory<TAgent>? Find(IsolationScopeFactory owner) =>
        Volatile.Read(ref _last) is { } last && ReferenceEquals(last.Owner, owner) ? last.Factory : null;

    /// <summary>Remembers <paramref name="factory"/> for the container of <paramref name="owner"/> when it is the built-in one.</summary>
    public static void Remember(IsolationScopeFactory owner, IAgentFactory<TAgent> factory)
    {
        if (factory is IBuiltInAgentFactory)
        {
            Volatile.Write(ref _last, new Entry(owner, factory));
        }
    }

    private sealed record Entry(IsolationScopeFactory Owner, IAgentFactory<TAgent> Factory);
}
