using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Isolation.AgentFramework.Internal;
using Microsoft.Agents.AI;

namespace Isolation.AgentFramework;

/// <summary>
/// An <see cref="AgentSessionStore"/> that keeps serialized sessions in memory (tests, single-node development). Each
/// load deserializes a new, independent session, as the store contract requires. Saves are optimistic like
/// <see cref="SqlAgentSessionStore{TConnection}"/>: saving a session loaded before another run saved the same
/// conversation, or a new session under an id already stored, throws <see cref="AgentSessionConflictException"/>
/// instead of losing the other run's history. Wrap it in <see cref="OwnerCheckedAgentSessionStore"/>: by itself it
/// checks no owner.
/// </summary>
public sealed class InMemoryAgentSessionStore : AgentSessionStore
{
    private static readonly ConditionalWeakTable<AgentSession, StoredVersion> Versions = new();

    private readonly Dictionary<string, Entry> _sessions = new(StringComparer.Ordinal);

    /// <summary>Gets the number of stored sessions.</summary>
    public int Count
    {
        get
        {
            lock (_sessions)
            {
                return _sessions.Count;
            }
        }
    }

    /// <inheritdoc />
    public override async ValueTask<AgentSession?> GetSessionAsync(AIAgent agent, AgentSessionStoreKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(agent);
        Guard.NotNull(key);
        var conversation = ConversationKey.Of(key);
        Entry entry;
        lock (_sessions)
        {
            if (!_sessions.TryGetValue(conversation, out entry))
            {
                return null;
            }
        }

        var session = await agent.DeserializeSessionAsync(entry.State, jsonSerializerOptions: null, cancellationToken).ConfigureAwait(false);
        Versions.AddOrUpdate(session, new StoredVersion(this, conversation, entry.Version));
        return session;
    }

    /// <inheritdoc />
    /// <exception cref="AgentSessionConflictException">The conversation was saved by another run since this session was loaded, or a new session is saved under an id already stored.</exception>
    public override async ValueTask SaveSessionAsync(AIAgent agent, AgentSessionStoreKey key, AgentSession session, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(agent);
        Guard.NotNull(key);
        Guard.NotNull(session);
        var conversation = ConversationKey.Of(key);
        var state = (await agent.SerializeSessionAsync(session, jsonSerializerOptions: null, cancellationToken).ConfigureAwait(false)).Clone();
        var known = Versions.TryGetValue(session, out var stored) && ReferenceEquals(stored.Store, this) && string.Equals(stored.Conversation, conversation, StringComparison.Ordinal)
            ? stored
            : null;
        lock (_sessions)
        {
            var exists = _sessions.TryGetValue(conversation, out var current);
            if (known is null ? exists : !exists || current.Version != known.Version)
            {
                throw new AgentSessionConflictException(known is null
                    ? $"Conversation '{key.SessionId}' is already stored, so a new session cannot be saved under its id. Load it with GetSessionAsync (or GetOrCreateSessionAsync) and save the loaded session."
                    : $"Conversation '{key.SessionId}' was saved by another run after this session was loaded (version {known.Version.ToString(CultureInfo.InvariantCulture)}), or it was deleted. Load it again and repeat the run; the newer history was kept.")
                {
                    SessionId = key.SessionId,
                    ExpectedVersion = known?.Version ?? 0,
                };
            }

            var version = exists ? current.Version + 1 : 1;
            _sessions[conversation] = new Entry(state, version);
            if (known is null)
            {
                Versions.AddOrUpdate(session, new StoredVersion(this, conversation, version));
            }
            else
            {
                known.Version = version;
            }
        }
    }

    /// <inheritdoc />
    public override ValueTask DeleteSessionAsync(AIAgent agent, AgentSessionStoreKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(key);
        lock (_sessions)
        {
            _sessions.Remove(ConversationKey.Of(key));
        }

        return default;
    }

    private readonly record struct Entry(JsonElement State, long Version);

    private sealed class StoredVersion(InMemoryAgentSessionStore store, string conversation, long version)
    {
        public InMemoryAgentSessionStore Store { get; } = store;

        public string Conversation { get; } = conversation;

        public long Version { get; set; } = version;
    }
}
