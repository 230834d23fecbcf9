using ChatServer.Agents;
using Isolation;

namespace ChatServer.Simulation;

/// <summary>
/// Scores the attacks. An attempt is refused when the library reported it — a <c>cross_scope_access</c> on an
/// <c>AgentSession</c> in the attacker's scope whose other party is the victim — and the attacker got nothing of the
/// victim's: the load returned no message and the continue's answer repeated no earlier question.
/// </summary>
internal sealed class AttackVerdict
{
    private const string SessionResourceType = "Microsoft.Agents.AI.AgentSession";

    private AttackVerdict()
    {
    }

    public int Attempts { get; private set; }

    public int Refused { get; private set; }

    public int Continues { get; private set; }

    public int ForeignMessages { get; private set; }

    public int Skipped { get; private set; }

    public long Violations { get; private set; }

    public List<string> Leaks { get; } = [];

    public List<string> NotRefused { get; } = [];

    public List<string> BadTerminals { get; } = [];

    public static AttackVerdict Evaluate(IReadOnlyList<AttackObservation> attacks, IReadOnlyCollection<IsolationViolation> reported)
    {
        var verdict = new AttackVerdict();
        foreach (var observation in attacks)
        {
            if (!observation.Made)
            {
                verdict.Skipped++;
                continue;
            }

            var attack = observation.Attack;
            var attacker = PlannedRun.UserName(attack.Attacker);
            var victim = PlannedRun.UserName(attack.Victim);
            var loadRefusals = 0;
            var continueRefusals = 0;
            foreach (var violation in reported)
            {
                if (violation.Kind == ViolationKind.CrossScopeAccess
                    && string.Equals(violation.ResourceType, SessionResourceType, StringComparison.Ordinal)
                    && string.Equals(violation.Context?.UserId, attacker, StringComparison.Ordinal)
                    && string.Equals(violation.OtherContext?.UserId, victim, StringComparison.Ordinal))
                {
                    // The continue is the attacker's run; the load is the history request's own scope.
                    if (string.Equals(violation.Context!.RunId, attack.RunId, StringComparison.Ordinal))
                    {
                        continueRefusals++;
                    }
                    else
                    {
                        loadRefusals++;
                    }
                }
            }

            verdict.Violations += loadRefusals + continueRefusals;
            verdict.Attempts += 2;
            verdict.Continues++;

            var loaded = observation.LoadedMessages;
            if (loaded > 0)
            {
                verdict.ForeignMessages += loaded;
                verdict.Leaks.Add($"{attacker} loaded {loaded} messages of {victim}'s conversation {attack.ConversationId}");
            }

            if (loadRefusals > 0 && loaded == 0 && observation.LoadStatus == 200)
            {
                verdict.Refused++;
            }
            else
            {
                verdict.NotRefused.Add($"{attacker}'s load of {victim}'s conversation: HTTP {observation.LoadStatus}, {loaded} messages, {loadRefusals} violations reported");
            }

            var repeated = RepeatedQuestions(observation.Answer);
            if (repeated > 0)
            {
                verdict.ForeignMessages += repeated;
                verdict.Leaks.Add($"{attacker}'s run {attack.RunId} in {victim}'s conversation was answered with {repeated} of {victim}'s questions");
            }

            if (continueRefusals > 0 && repeated == 0)
            {
                verdict.Refused++;
            }
            else
            {
                verdict.NotRefused.Add($"{attacker}'s run {attack.RunId} in {victim}'s conversation ended '{observation.TerminalStatus ?? "none"}', {continueRefusals} violations reported");
            }

            if (observation.WatchTerminals != 1 || observation.MainTerminals != 1)
            {
                verdict.BadTerminals.Add($"run {attack.RunId}: {observation.WatchTerminals} terminal events on the watching tab, {observation.MainTerminals} on the sending tab");
            }
        }

        return verdict;
    }

    /// <summary>How many earlier questions the scripted model's "what did I ask" answer quoted: each is one of the conversation's messages.</summary>
    private static int RepeatedQuestions(string? answer)
    {
        if (answer is null || !answer.StartsWith(ScriptedChatClient.EarlierPrefix, StringComparison.Ordinal))
        {
            return 0;
        }

        var quotes = 0;
        foreach (var c in answer)
        {
            if (c == '"')
            {
                quotes++;
            }
        }

        return Math.Max(1, quotes / 2);
    }
}
