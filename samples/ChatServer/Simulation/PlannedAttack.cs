namespace ChatServer.Simulation;

/// <summary>
/// One attack of the plan: after its own runs, <see cref="Attacker"/> sends <see cref="Victim"/>'s conversation id, first
/// to load it (<c>GET /api/history?threadId=…</c>), then to continue it (a chat run <see cref="RunId"/> in that thread).
/// Every attempt must be refused and return none of the victim's history.
/// </summary>
public sealed record PlannedAttack(int Attacker, int Victim, string RunId)
{
    /// <summary>What the attacker asks in the stolen conversation: the scripted model answers it from the conversation's history.</summary>
    public const string ContinueText = "What did I ask before?";

    /// <summary>Gets the conversation id the attacker sends: the victim's.</summary>
    public string ConversationId => PlannedRun.ConversationId(Victim);

    /// <summary>
    /// Picks <see cref="SimulationOptions.Attackers"/> distinct users and a victim for each (another user), from
    /// <see cref="SimulationOptions.Seed"/>. Its own random stream: the runs' plan is the same with or without the attack.
    /// </summary>
    public static IReadOnlyList<PlannedAttack> CreatePlan(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var count = options.Users < 2 ? 0 : Math.Clamp(options.Attackers, 0, options.Users);
        var random = new Random(unchecked((options.Seed * 31) + 7));
        var users = new int[options.Users];
        for (var u = 0; u < users.Length; u++)
        {
            users[u] = u;
        }

        random.Shuffle(users);
        var attacks = new PlannedAttack[count];
        for (var i = 0; i < count; i++)
        {
            var attacker = users[i];
            var victim = random.Next(options.Users - 1);
            if (victim >= attacker)
            {
                victim++;
            }

            attacks[i] = new PlannedAttack(attacker, victim, $"u{attacker}-steal");
        }

        return attacks;
    }
}
