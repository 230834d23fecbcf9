using System.Runtime.CompilerServices;

namespace Isolation.AgentFramework.Internal;

/// <summary>
/// One gate per conversation with a run in progress, so that two runs on the same conversation take turns instead of
/// interleaving its history (two session instances loaded from the store for the same conversation included).
/// A table belongs to one store (<see cref="For"/>): conversation keys are only unique within a store, so runs of two
/// stores (two tenants, two hosts in one process) that happen to use the same key never wait for each other.
/// Entries are reference counted and removed when the last run leaves, so a table holds only active conversations.
/// </summary>
internal sealed class ConversationGates
{
    private static readonly ConditionalWeakTable<object, ConversationGates> ByStore = new();

    private readonly Dictionary<string, Gate> _gates = new(StringComparer.Ordinal);

    /// <summary>Gets the gates of the conversations of <paramref name="store"/> (the store that persists them).</summary>
    public static ConversationGates For(object store) => ByStore.GetValue(store, static _ => new ConversationGates());

    /// <summary>Gets the number of conversations with a run in progress or waiting.</summary>
    public int Count
    {
        get
        {
            lock (_gates)
            {
                return _gates.Count;
            }
        }
    }

    public Gate Rent(string conversation)
    {
        lock (_gates)
        {
            if (!_gates.TryGetValue(conversation, out var gate))
            {
                gate = new Gate(this, conversation);
                _gates.Add(conversation, gate);
            }

            gate.References++;
            return gate;
        }
    }

    private void Return(Gate gate)
    {
        lock (_gates)
        {
            if (--gate.References == 0)
            {
                _gates.Remove(gate.Conversation);
            }
        }
    }

    internal sealed class Gate(ConversationGates owner, string conversation)
    {
        public string Conversation { get; } = conversation;

        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int References { get; set; }

        /// <summary>Leaves the gate (without releasing its semaphore): the last one out removes it from its table.</summary>
        public void Return() => owner.Return(this);
    }
}
