using Isolation.Internal;

namespace Isolation;

/// <summary>
/// A place on each user's entry in a <see cref="ConnectionRegistry"/> where a registry that decorates it (one that also
/// delivers to other nodes, say) keeps its own per-user state, so that delivering an event reads the user's connections
/// and that state in one lookup. Created by <see cref="ConnectionRegistry.CreateUserStateSlot{TState}"/>; read on delivery
/// by <see cref="ConnectionRegistry.TryPublish{TState}"/>.
/// </summary>
/// <remarks>
/// The state lives exactly as long as the user's entry: from the user's first connection on this registry to their last
/// one leaving. It starts as <see langword="null"/>, and a user who disconnects and connects again starts from
/// <see langword="null"/> again, so keep the authoritative copy elsewhere and treat the slot as a cache. Setting and reading
/// are thread-safe and never block delivery; the registry never looks at the state.
/// </remarks>
/// <typeparam name="TState">The state kept per user; a reference type, typically immutable (replace it rather than mutate it).</typeparam>
/// <example>
/// <code>
/// var presence = local.CreateUserStateSlot&lt;PresenceInfo&gt;();
/// if (local.TryPublish(envelope, presence, out var result, out var info) &amp;&amp; info is { OnlyHere: true })
/// {
///     return result; // delivered here; nothing else to do
/// }
/// </code>
/// </example>
public sealed class UserStateSlot<TState>
    where TState : class
{
    internal UserStateSlot(ConnectionRegistry registry, int index)
    {
        Registry = registry;
        Index = index;
    }

    internal ConnectionRegistry Registry { get; }

    internal int Index { get; }

    /// <summary>Sets this slot's state for <paramref name="userId"/>, if the user has a connection on the registry.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="state">The state; <see langword="null"/> clears it.</param>
    /// <returns><see langword="true"/> when it was set; <see langword="false"/> when the user has no connection here (nothing to attach it to).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    public bool TrySet(string userId, TState? state)
    {
        Guard.NotNull(userId);
        return Registry.TrySetUserState(userId, Index, state);
    }

    /// <summary>Reads this slot's state for <paramref name="userId"/>.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="state">The state, or <see langword="null"/> when none was set since the user's first connection.</param>
    /// <returns><see langword="true"/> when the user has a connection on the registry; <see langword="false"/> otherwise (then <paramref name="state"/> is <see langword="null"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="userId"/> is <see langword="null"/>.</exception>
    public bool TryGet(string userId, out TState? state)
    {
        Guard.NotNull(userId);
        var found = Registry.TryGetUserState(userId, Index, out var value);
        state = value as TState;
        return found;
    }
}
