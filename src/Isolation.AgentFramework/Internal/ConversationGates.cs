namespace Isolation.AgentFramework.Internal;

/// <summary>
/// One gate per conversation with a run in progress, so that two runs on the same conversation take turns instead of
/// interleaving its history (two session instances loaded from the store for the same conversation included).
/// Entries are reference counted and removed when the last run leaves, so the table holds only active conversations.
/// </summary>
internal static class ConversationGates
{
    private static readonly Dictionary<string, Gate> Gates = new(StringComparer.Ordinal);

    public static Gate Rent(string conversation)
    {
        lock (Gates)
        {
            if (!Gates.TryGetValue(conversation, out var gate))
            {
                gate = new Gate(conversation);
                Gates.Add(conversation, gate);
            }

            gate.References++;
            return gate;
        }
    }

    public static void Return(Gate gate)
    {
        lock (Gates)
        {
            if (--gate.References == 0)
            {
                Gates.Remove(gate.Conversation);
            }
        }
    }

    /// <summary>Gets the number of conversations with a run in progress or waiting (for tests).</summary>
    public static int Count
    {
        get
        {
            lock (Gates)
            {
                return Gates.Count;
            }
        }
    }

    internal sealed class Gate(string conversation)
    {
        public string Conversation { get; } = conversation;

        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int References { get; set; }
    }
}
