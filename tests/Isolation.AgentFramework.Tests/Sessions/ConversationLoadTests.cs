using Isolation.AgentFramework.Tests.Support;

namespace Isolation.AgentFramework.Tests.Sessions;

/// <summary>
/// 50 users × 3 conversations, every conversation driven by concurrent runs, while attackers replay other users'
/// conversation ids; on the real SQLite and PostgreSQL stores. Bounded in count and time.
/// </summary>
public sealed class ConversationLoadTests
{
    private const int Users = 50;
    private const int ConversationsPerUser = 3;
    private const int TurnsPerConversation = 2;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<StoreKind> Stores => new() { StoreKind.Memory, StoreKind.Sqlite, StoreKind.Postgres };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task TurnAsync_50UsersTimes3ConversationsConcurrentWithAttackers_EveryHistoryIsItsOwnersOnlyAndEveryAttackRefused(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind, IsolationMode.Observe);

        // Every conversation exists first, so an attacker always aims at a real, foreign conversation.
        var seed = new List<Task>();
        for (var u = 0; u < Users; u++)
        {
            for (var c = 0; c < ConversationsPerUser; c++)
            {
                seed.Add(host.TurnAsync(User(u), Conversation(u, c), Text(u, c, 0), Ct));
            }
        }

        await Task.WhenAll(seed).WaitAsync(Bound, Ct);

        // Then all conversations take their next turns at once, each conversation with two concurrent runs (queued),
        // and every fifth user also tries the next user's conversations.
        var work = new List<Task>();
        var attacks = 0;
        for (var u = 0; u < Users; u++)
        {
            for (var c = 0; c < ConversationsPerUser; c++)
            {
                for (var t = 1; t <= TurnsPerConversation; t++)
                {
                    var (user, conversation, text) = (User(u), Conversation(u, c), Text(u, c, t));
                    work.Add(Task.Run(() => RetryOnConflictAsync(host, user, conversation, text), Ct));
                }

                if (u % 5 == 0)
                {
                    var (attacker, victim) = (User(u), Conversation((u + 1) % Users, c));
                    attacks++;
                    work.Add(Task.Run(() => host.TurnAsync(attacker, victim, "attack by " + attacker, Ct), Ct));
                }
            }
        }

        await Task.WhenAll(work).WaitAsync(Bound, Ct);

        // An attacker's run gets a new empty session (not found) and its save is refused: two reports per attack.
        Assert.Equal(2 * attacks, host.Monitor.GetViolationCount(ViolationKind.CrossScopeAccess));
        Assert.Equal(2 * attacks, host.Monitor.TotalViolations);
        Assert.DoesNotContain(host.Model.Seen, seen => seen.Any(s => s.StartsWith("attack", StringComparison.Ordinal)) && seen.Any(s => s.StartsWith("text", StringComparison.Ordinal)));
        for (var u = 0; u < Users; u++)
        {
            for (var c = 0; c < ConversationsPerUser; c++)
            {
                var history = await host.HistoryAsync(User(u), Conversation(u, c), Ct);
                Assert.Equal(1 + TurnsPerConversation, history.Length);
                Assert.Equal(Text(u, c, 0), history[0]);
                Assert.All(history, h => Assert.StartsWith($"text {u}/{c}/", h, StringComparison.Ordinal));
            }
        }
    }

    /// <summary>
    /// Two runs on one conversation load two instances; the gate makes them take turns, but the second was loaded
    /// before the first saved, so its save is a version conflict on the SQL stores: reload and run again, as documented.
    /// </summary>
    private static async Task RetryOnConflictAsync(AgentTestHost host, string user, string conversation, string text)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await host.TurnAsync(user, conversation, text, Ct);
                return;
            }
            catch (AgentSessionConflictException) when (attempt < 10)
            {
            }
        }
    }

    private static string User(int u) => "user-" + u;

    private static string Conversation(int u, int c) => $"conv-{u}-{c}";

    private static string Text(int u, int c, int t) => $"text {u}/{c}/{t}";
}
