using System.Collections.Concurrent;
using System.Text.Json;
using Isolation.AgentFramework.Internal;
using Microsoft.Agents.AI;

namespace Isolation.AgentFramework;

/// <summary>
/// An <see cref="AgentSessionStore"/> that keeps serialized sessions in memory (tests, single-node development). Each
/// load deserializes a new, independent session, as the store contract requires. Wrap it in
/// <see cref="OwnerCheckedAgentSessionStore"/>: by itself it checks no owner.
/// </summary>
public sealed class InMemoryAgentSessionStore : AgentSessionStore
{
    private readonly ConcurrentDictionary<string, JsonElement> _sessions = new(StringComparer.Ordinal);

    /// <summary>Gets the number of stored sessions.</summary>
    public int Count => _sessions.Count;

    /// <inheritdoc />
    public override async ValueTask<AgentSession?> GetSessionAsync(AIAgent agent, AgentSessionStoreKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(agent);
        Guard.NotNull(key);
        if (!_sessions.TryGetValue(ConversationKey.Of(key), out var state))
        {
            return null;
        }

        return await agent.DeserializeSessionAsync(state, jsonSerializerOptions: null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask SaveSessionAsync(AIAgent agent, AgentSessionStoreKey key, AgentSession session, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(agent);
        Guard.NotNull(key);
        Guard.NotNull(session);
        var state = await agent.SerializeSessionAsync(session, jsonSerializerOptions: null, cancellationToken).ConfigureAwait(false);
        _sessions[ConversationKey.Of(key)] = state.Clone();
    }

    /// <inheritdoc />
    public override ValueTask DeleteSessionAsync(AIAgent agent, AgentSessionStoreKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(key);
        _sessions.TryRemove(ConversationKey.Of(key), out _);
        return default;
    }
}
