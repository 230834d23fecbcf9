using System.Globalization;
using ChatServer.Dashboard;
using Isolation;

namespace ChatServer.Simulation;

/// <summary>
/// The isolation report. Injected failures are failures of their own runs, never isolation breaks: they may end their run
/// as failed, timed out or cancelled, and drop that run's events for a vanished tab. Isolation held when, and only when,
/// no client saw another user's event, the library found no violation and no leak (score 1.0), every run ended with
/// exactly one terminal event, every clean run completed (another user's failure did not reach it), and the server
/// drained (no work left running, no connection left registered). The attack is the one expected source of violations:
/// every attempt with a stolen conversation id must be refused (a <c>cross_scope_access</c> against the attacker's scope,
/// naming the victim as the owner) and return none of the victim's history; any other violation breaks isolation.
/// </summary>
public sealed class SimulationReport
{
    private readonly List<string> _failures = [];
    private readonly List<string> _lines = [];

    private SimulationReport()
    {
    }

    public bool IsolationHeld => _failures.Count == 0;

    public IReadOnlyList<string> Failures => _failures;

    private const string OverloadPrefix = "OVERLOAD:";

    public long CrossUserEvents { get; private set; }

    public long EventsReceived { get; private set; }

    public long Violations { get; private set; }

    public long Leaks { get; private set; }

    public double Score { get; private set; }

    /// <summary>Gets how many attempts were made with another user's conversation id: a load and a continue per attack made.</summary>
    public int AttackAttempts { get; private set; }

    /// <summary>Gets how many of those were refused: reported as <c>cross_scope_access</c> against the attacker, and nothing of the victim's returned.</summary>
    public int AttackRefused { get; private set; }

    /// <summary>Gets how many of the victims' messages reached an attacker: loaded history items, and earlier questions an answer repeated.</summary>
    public int ForeignHistoryReturned { get; private set; }

    /// <summary>Gets how many attacks were not made because the victim never stored a conversation (none of its runs completed).</summary>
    public int AttacksSkipped { get; private set; }

    /// <summary>Gets the violations that were the attackers' refused attempts (counted against the attackers' scopes); the rest of <see cref="Violations"/> broke isolation.</summary>
    public long AttackViolations { get; private set; }

    public long FinishedScopes { get; private set; }

    public int Runs { get; private set; }

    public int RunsWithOneTerminal { get; private set; }

    public int CleanRuns { get; private set; }

    public int CleanRunsCompleted { get; private set; }

    public IReadOnlyDictionary<string, long> ServerRunsByStatus { get; private set; } = new Dictionary<string, long>();

    public IReadOnlyDictionary<InjectedFailure, int> Injected { get; private set; } = new Dictionary<InjectedFailure, int>();

    /// <summary>Gets how the runs of each kind ended, as their terminal event's status said (<c>none</c> when no terminal event arrived).</summary>
    public IReadOnlyDictionary<InjectedFailure, IReadOnlyDictionary<string, int>> Outcomes { get; private set; } = new Dictionary<InjectedFailure, IReadOnlyDictionary<string, int>>();

    public TimeSpan Elapsed { get; private set; }

    /// <summary>Gets the clean runs' latency percentiles (send → completed), or <see langword="null"/> when no clean run completed.</summary>
    public double? CleanP50Ms { get; private set; }

    public double? CleanP95Ms { get; private set; }

    public double? CleanP99Ms { get; private set; }

    /// <summary>Gets a value indicating whether any run was given an injected failure.</summary>
    public bool FailuresInjected { get; private set; }

    /// <summary>Gets how many run events reached a tab on another node than the run's (0 on one node).</summary>
    public long CrossNodeEvents { get; private set; }

    /// <summary>Gets how many messages the nodes accepted from Redis and delivered to their local connections (0 on one node).</summary>
    public long RedisMessagesReceived { get; private set; }

    internal static SimulationReport Create(
        SimulationOptions options,
        IReadOnlyList<RunObservation> observations,
        IReadOnlyList<AttackObservation> attacks,
        IReadOnlyCollection<IsolationViolation> reported,
        SimulationTally tally,
        ServerTotals server,
        bool drained,
        int connectionsLeft,
        TimeSpan elapsed,
        IReadOnlyCollection<string> leakDetails,
        CrossNodeCounts? crossNode = null)
    {
        var report = new SimulationReport
        {
            Elapsed = elapsed,
            Runs = observations.Count,
            CrossUserEvents = tally.CrossUserEvents,
            EventsReceived = tally.Events,
            Score = server.GetScore(),
            FinishedScopes = server.FinishedScopes,
            ServerRunsByStatus = server.RunsByStatus,
        };

        long violations = 0;
        long leaks = 0;
        var byKind = new List<string>();
        foreach (var kind in Enum.GetValues<ViolationKind>())
        {
            var count = server.GetViolationCount(kind);
            if (kind.IsLeak())
            {
                leaks += count;
            }
            else
            {
                violations += count;
            }

            if (count > 0)
            {
                byKind.Add($"{kind.ToTagValue()} {count}");
            }
        }

        report.Violations = violations;
        report.Leaks = leaks;

        var injected = new Dictionary<InjectedFailure, int>();
        var outcomes = new Dictionary<InjectedFailure, Dictionary<string, int>>();
        var oneTerminal = 0;
        var badTerminal = new List<string>();
        var clean = new List<double>();
        var cleanRuns = 0;
        var cleanCompleted = 0;
        var mustComplete = 0;
        var completedAsTheyMust = 0;
        var slowCompleted = 0;
        var cleanNotCompleted = new List<string>();
        var cleanTimedOut = 0;
        var cleanTimedOutExamples = new List<string>();
        foreach (var observation in observations)
        {
            var failure = observation.Run.Failure;
            injected[failure] = injected.GetValueOrDefault(failure) + 1;
            var status = observation.TerminalStatus ?? "none";
            var outcome = outcomes.TryGetValue(failure, out var o) ? o : outcomes[failure] = new Dictionary<string, int>(StringComparer.Ordinal);
            outcome[status] = outcome.GetValueOrDefault(status) + 1;

            var mainOk = failure == InjectedFailure.VanishingClient ? observation.MainTerminals <= 1 : observation.MainTerminals == 1;
            if (observation.WatchTerminals == 1 && mainOk)
            {
                oneTerminal++;
            }
            else if (badTerminal.Count < 5)
            {
                badTerminal.Add($"run {observation.Run.RunId} ({failure}): {observation.WatchTerminals} terminal events on the watching tab, {observation.MainTerminals} on the sending tab");
            }

            // A clean run has no injected failure; a slow_client run must complete too (a slow reader changes nothing on the server).
            if (failure is InjectedFailure.None or InjectedFailure.SlowClient)
            {
                mustComplete++;
                if (failure == InjectedFailure.None)
                {
                    cleanRuns++;
                }

                if (status == "completed")
                {
                    completedAsTheyMust++;
                    if (failure == InjectedFailure.None)
                    {
                        cleanCompleted++;
                        clean.Add(observation.Latency.TotalMilliseconds);
                    }
                    else
                    {
                        slowCompleted++;
                    }
                }
                else if (status == "timed_out")
                {
                    // Ran out of time on a saturated machine: overload, reported as such.
                    cleanTimedOut++;
                    if (cleanTimedOutExamples.Count < 5)
                    {
                        cleanTimedOutExamples.Add(observation.Run.RunId);
                    }
                }
                else if (cleanNotCompleted.Count < 5)
                {
                    cleanNotCompleted.Add($"run {observation.Run.RunId} ({failure}) ended '{status}'");
                }
            }
        }

        report.Injected = injected;
        report.Outcomes = outcomes.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, int>)kv.Value);
        report.RunsWithOneTerminal = oneTerminal;
        report.CleanRuns = cleanRuns;
        report.CleanRunsCompleted = cleanCompleted;
        report.FailuresInjected = injected.Keys.Any(f => f != InjectedFailure.None);
        clean.Sort();
        report.CleanP50Ms = Percentile(clean, 50);
        report.CleanP95Ms = Percentile(clean, 95);
        report.CleanP99Ms = Percentile(clean, 99);

        var attack = AttackVerdict.Evaluate(attacks, reported);
        report.AttackAttempts = attack.Attempts;
        report.AttackRefused = attack.Refused;
        report.ForeignHistoryReturned = attack.ForeignMessages;
        report.AttacksSkipped = attack.Skipped;
        report.AttackViolations = attack.Violations;
        var otherViolations = violations - attack.Violations;

        long serverRuns = 0;
        foreach (var (_, count) in report.ServerRunsByStatus)
        {
            serverRuns += count;
        }

        // The verdict.
        if (report.CrossUserEvents > 0)
        {
            report._failures.Add($"{report.CrossUserEvents} events reached a user they do not belong to: " + string.Join("; ", tally.CrossUserExamples));
        }

        if (otherViolations > 0)
        {
            report._failures.Add($"{otherViolations} isolation violations were reported{(attack.Violations > 0 ? $" besides the {attack.Violations} of the refused attacks" : string.Empty)}: " + string.Join(", ", byKind));
        }

        if (report.ForeignHistoryReturned > 0)
        {
            report._failures.Add($"{report.ForeignHistoryReturned} messages of another user's conversation reached an attacker: " + string.Join("; ", attack.Leaks));
        }

        if (report.AttackRefused != report.AttackAttempts)
        {
            report._failures.Add($"{report.AttackAttempts - report.AttackRefused} of {report.AttackAttempts} attempts with another user's conversation id were not refused: " + string.Join("; ", attack.NotRefused));
        }

        if (leaks > 0)
        {
            report._failures.Add($"{leaks} leaks were reported: " + string.Join(", ", byKind) + (leakDetails.Count == 0 ? string.Empty : "; " + string.Join("; ", leakDetails)));
        }

        // Each refused attempt is a scope of its own with a violation (the history request's, the continue run's); no other may have one.
        if (server.ScopesWithViolations > attack.Refused)
        {
            report._failures.Add(string.Create(CultureInfo.InvariantCulture, $"isolation score is {report.Score:0.0000}: {server.ScopesWithViolations} of {server.FinishedScopes} scopes had violations, {attack.Refused} of them the attackers' refused attempts"));
        }

        if (oneTerminal != report.Runs)
        {
            report._failures.Add($"{report.Runs - oneTerminal} runs did not end with exactly one terminal event: " + string.Join("; ", badTerminal));
        }

        if (cleanTimedOut > 0)
        {
            var deadline = ChatSimulation.RunDeadlineFor(options.Users).TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
            report._failures.Add(
                $"{OverloadPrefix} {cleanTimedOut} runs that had to complete (clean or slow_client) timed out: the server did not finish them within the {deadline} s deadline. The machine is too busy for this many users (other processes, or too few cores); this is not a failure of another run. Try fewer --users or a quieter machine. Runs: " + string.Join(", ", cleanTimedOutExamples));
        }

        if (completedAsTheyMust + cleanTimedOut != mustComplete)
        {
            report._failures.Add($"{mustComplete - completedAsTheyMust - cleanTimedOut} runs that had to complete (clean or slow_client) did not (a failure reached a run it did not belong to): " + string.Join("; ", cleanNotCompleted));
        }

        if (attack.BadTerminals.Count > 0)
        {
            report._failures.Add($"{attack.BadTerminals.Count} attack runs did not end with exactly one terminal event per tab: " + string.Join("; ", attack.BadTerminals));
        }

        if (serverRuns != report.Runs + attack.Continues)
        {
            report._failures.Add($"the server counted {serverRuns} ended runs (isolation.runs) for {report.Runs + attack.Continues} runs sent ({attack.Continues} of them attacks)");
        }

        if (!drained || connectionsLeft != 0)
        {
            report._failures.Add($"the server did not drain: {(drained ? "all work returned" : "work still running 20 s after the last run ended")}, {connectionsLeft} connections still registered");
        }

        if (tally.ClientFailures > 0)
        {
            report._failures.Add($"{tally.ClientFailures} simulated users lost a connection they did not mean to drop: " + string.Join("; ", tally.ClientFailureExamples));
        }

        if (tally.ProtocolErrors > 0)
        {
            report._failures.Add($"{tally.ProtocolErrors} protocol errors: the simulator sent something the server refused");
        }

        var ic = CultureInfo.InvariantCulture;
        var lines = report._lines;
        lines.Add(string.Create(ic, $"Isolation report: {options.Users} users, {report.Runs} runs, failure rate {options.FailureRate:0.###}, seed {options.Seed}, {elapsed.TotalSeconds:0.0} s"));
        lines.Add("  runs by status (server, isolation.runs)  " + string.Join("  ", Order(report.ServerRunsByStatus).Select(kv => $"{kv.Key} {kv.Value}")));
        lines.Add("  injected failures                        " + string.Join("  ", injected.Where(kv => kv.Key != InjectedFailure.None).OrderBy(kv => kv.Key).Select(kv => $"{Name(kv.Key)} {kv.Value}")) + (injected.Count <= 1 ? "none" : string.Empty));
        foreach (var (failure, outcome) in outcomes.OrderBy(kv => kv.Key))
        {
            lines.Add($"    {Name(failure),-26} ended: " + string.Join(", ", outcome.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
        }

        lines.Add($"  exactly one terminal event per run       {oneTerminal}/{report.Runs}");
        lines.Add($"  clean runs completed                     {cleanCompleted}/{cleanRuns} (clean: no injected failure)");
        if (injected.TryGetValue(InjectedFailure.SlowClient, out var slowRuns))
        {
            lines.Add($"  slow_client runs completed               {slowCompleted}/{slowRuns}");
        }

        lines.Add($"  cross-user events seen by clients        {report.CrossUserEvents} (of {report.EventsReceived} events received)");
        lines.Add("  " + $"stolen conversation ids ({attacks.Count} attackers)".PadRight(41) + $"attempts {report.AttackAttempts} (load, continue)  refused {report.AttackRefused}  foreign history returned {report.ForeignHistoryReturned}"
            + (report.AttacksSkipped == 0 ? string.Empty : $"  ({report.AttacksSkipped} not made: the victim had no stored conversation)"));
        lines.Add($"  violations                               {violations}{(byKind.Count == 0 ? string.Empty : " (" + string.Join(", ", byKind) + ")")}: {attack.Violations} against the attackers' refused attempts, {otherViolations} anywhere else");
        lines.Add(string.Create(ic, $"  leaks (session, agent, scope)            {server.GetViolationCount(ViolationKind.SessionLeak)}, {server.GetViolationCount(ViolationKind.AgentLeak)}, {server.GetViolationCount(ViolationKind.ScopeLeak)} (full leak detection, checked after a full GC)"));
        lines.Add(string.Create(ic, $"  isolation score                          {report.Score:0.0000} ({report.FinishedScopes - server.ScopesWithViolations} of {report.FinishedScopes} finished scopes without a violation)"));
        lines.Add("    scopes: one per run, one per history request (the attackers' loads), and two of the server's start-up (schema, agent warm-up)");
        lines.Add(report.CleanP50Ms is null
            ? "  clean run latency (send → completed)     n/a (no clean run completed)"
            : string.Create(ic, $"  clean run latency (send → completed)     p50 {report.CleanP50Ms:0.0} ms  p95 {report.CleanP95Ms:0.0} ms  p99 {report.CleanP99Ms:0.0} ms ({clean.Count} runs)"));
        lines.Add(server.AgentCreationPercentileMs(50) is not { } creationP50
            ? $"  agent creation                           n/a ({server.AgentsCreated} agents, none after the first of its type)"
            : string.Create(ic, $"  agent creation                           p50 {creationP50 * 1000:0.0} µs  p95 {server.AgentCreationPercentileMs(95) * 1000:0.0} µs ({server.AgentCreationSamples} of {server.AgentsCreated} agents: the first of each type, JIT warm-up, left out)"));
        lines.Add("  events dropped (server)                  " + (server.DroppedByReason.Count == 0 ? "none" : string.Join("  ", server.DroppedByReason.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"))));
        if (crossNode is not null)
        {
            report.CrossNodeEvents = tally.RunEventsCrossed;
            report.RedisMessagesReceived = crossNode.Received;
            lines.Add(string.Create(ic, $"  nodes                                    {crossNode.Nodes} sharing Redis (environment prefix {crossNode.Prefix}); each user's main tab on another node than its watch tab"));
            lines.Add(string.Create(ic, $"  run events on tabs (clients)             {tally.RunEventsLocal} on the run's node, {tally.RunEventsCrossed} on another node (through Redis)"));
            lines.Add(string.Create(ic, $"  Redis messages (servers)                 sent {crossNode.Sent}, received and delivered {crossNode.Received}, refused {crossNode.Refused}, dropped {crossNode.Dropped}"));
            if (crossNode.Refused > 0)
            {
                report._failures.Add($"{crossNode.Refused} messages from Redis were refused (forged, replayed, stale, misaddressed or malformed): nothing but the nodes of this simulation should publish on its channels");
            }

            if (tally.RunEventsCrossed == 0 || crossNode.Received == 0)
            {
                report._failures.Add("no event crossed from one node to another: the multi-node delivery was not exercised");
            }
        }

        return report;
    }

    public void Write(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine();
        foreach (var line in _lines)
        {
            output.WriteLine(line);
        }

        output.WriteLine();
        if (IsolationHeld)
        {
            output.WriteLine(FailuresInjected
                ? "Isolation held. (Injected failures ended their own runs; none reached another user or run.)"
                : "Isolation held. (No failures were injected.)");
        }
        else
        {
            // Only the overload failed: nothing crossed, but what had to complete did not, so isolation was not shown.
            output.WriteLine(_failures.All(f => f.StartsWith(OverloadPrefix, StringComparison.Ordinal))
                ? "ISOLATION NOT SHOWN (every other check passed; the machine was too busy):"
                : "ISOLATION BROKEN:");
            foreach (var failure in _failures)
            {
                output.WriteLine("  - " + failure);
            }
        }
    }

    private static IEnumerable<KeyValuePair<string, long>> Order(IReadOnlyDictionary<string, long> runs)
    {
        string[] order = ["completed", "failed", "timed_out", "cancelled", "rejected"];
        foreach (var status in order)
        {
            yield return new KeyValuePair<string, long>(status, runs.GetValueOrDefault(status));
        }

        foreach (var (status, count) in runs)
        {
            if (Array.IndexOf(order, status) < 0)
            {
                yield return new KeyValuePair<string, long>(status, count);
            }
        }
    }

    private static string Name(InjectedFailure failure) => failure switch
    {
        InjectedFailure.None => "clean (none injected)",
        InjectedFailure.Exception => "exception",
        InjectedFailure.DatabaseError => "db_error",
        InjectedFailure.Hang => "hang",
        InjectedFailure.Stuck => "stuck (ignores cancel)",
        InjectedFailure.SlowClient => "slow_client",
        _ => "vanishing_client",
    };

    private static double? Percentile(List<double> sorted, double percentile)
    {
        if (sorted.Count == 0)
        {
            return null;
        }

        var index = (int)Math.Ceiling(percentile / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }
}
