using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using Isolation;

namespace ChatServer.Simulation;

/// <summary>
/// One simulated user with two tabs: the <em>main</em> connection sends the user's runs one after another (and is the
/// one that reads slowly or vanishes), the <em>watch</em> connection only listens. Events go to all of a user's
/// connections, so the watch connection sees every run end, even those whose main connection vanished. Both check
/// every event they get: it must be this user's, for one of this user's runs, and each run must end exactly once. An
/// attacker then sends another user's conversation id (<see cref="PlannedAttack"/>): loads it, then continues it.
/// </summary>
internal sealed class SimulatedUser
{
    private static readonly TimeSpan TerminalWait = TimeSpan.FromSeconds(30);

    private readonly ConnectionFactory _connect;
    private readonly IReadOnlyList<PlannedRun> _runs;
    private readonly SimulationTally _tally;
    private readonly ConcurrentDictionary<string, RunObservation> _observations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AttackObservation> _attacks = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<bool> _conversationStored = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HttpClient _http;
    private readonly string _token;
    private ISimulatedConnection? _main;
    private ISimulatedConnection? _watch;
    private int _connections;

    public SimulatedUser(string userId, ConnectionFactory connect, HttpClient http, string token, IReadOnlyList<PlannedRun> runs, IEnumerable<PlannedAttack> attacks, SimulationTally tally)
    {
        UserId = userId;
        _connect = connect;
        _http = http;
        _token = token;
        _runs = runs;
        _tally = tally;
        foreach (var run in runs)
        {
            _observations[run.RunId] = new RunObservation(run);
        }

        foreach (var attack in attacks)
        {
            _attacks[attack.RunId] = new AttackObservation(attack);
        }
    }

    public string UserId { get; }

    public IEnumerable<RunObservation> Observations => _observations.Values;

    public IEnumerable<AttackObservation> Attacks => _attacks.Values;

    /// <summary>
    /// Gets a task that is <see langword="true"/> once a run of this user completed (its conversation is stored, so it has an
    /// owner and history to steal), <see langword="false"/> when all its runs ended without one completing.
    /// </summary>
    public Task<bool> ConversationStored => _conversationStored.Task;

    /// <summary>Gets the other users, by index: an attacker waits for its victim's conversation to be stored.</summary>
    public IReadOnlyList<SimulatedUser> Everyone { get; set; } = [];

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        _watch = await OpenAsync("watch", cancellationToken);
        _main = await OpenAsync("main", cancellationToken);
    }

    /// <summary>Sends the user's runs one after another, each after the previous one ended.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunAllAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is WebSocketException or InvalidOperationException or IOException)
        {
            // A connection the simulator did not mean to lose: the runs it did not get to are reported as not ended.
            _tally.ClientFailed($"{UserId}: {ex.Message}");
        }
    }

    private async Task RunAllAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunOwnAsync(cancellationToken);
        }
        finally
        {
            _conversationStored.TrySetResult(false);
        }

        foreach (var observation in _attacks.Values)
        {
            await AttackAsync(observation, cancellationToken);
        }
    }

    private async Task RunOwnAsync(CancellationToken cancellationToken)
    {
        foreach (var run in _runs)
        {
            var observation = _observations[run.RunId];
            var main = _main!;
            main.Slow = run.Failure == InjectedFailure.SlowClient;
            observation.SentAt = Stopwatch.GetTimestamp();
            await main.SendAsync(JsonSerializer.Serialize(new { type = "chat", runId = run.RunId, threadId = PlannedRun.ConversationId(run.User), text = run.Text }), cancellationToken);

            if (run.Failure == InjectedFailure.VanishingClient)
            {
                // Wait until the run is under way, then drop the tab without a goodbye and open a new one.
                await Wait(observation.Started.Task, cancellationToken);
                main.Vanish();
                await main.DisposeAsync();
                _main = await OpenAsync("main", cancellationToken);
            }

            await Wait(observation.WatchTerminal.Task, cancellationToken);
            if (run.Failure != InjectedFailure.VanishingClient)
            {
                await Wait(observation.MainTerminal.Task, cancellationToken);
            }

            main.Slow = false;
            _tally.RunFinished();
        }
    }

    /// <summary>Sends the victim's conversation id: a load of its history, then a chat run in it. Both must be refused.</summary>
    private async Task AttackAsync(AttackObservation observation, CancellationToken cancellationToken)
    {
        var attack = observation.Attack;
        if (!await Everyone[attack.Victim].ConversationStored.WaitAsync(TerminalWait, cancellationToken))
        {
            // Nothing to steal: none of the victim's runs completed (every one was given a failure).
            return;
        }

        observation.Made = true;
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/history?threadId=" + Uri.EscapeDataString(attack.ConversationId), UriKind.Relative)))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            using var response = await _http.SendAsync(request, cancellationToken);
            observation.LoadStatus = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                using var history = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                observation.LoadedMessages = history.RootElement.GetArrayLength();
            }
        }

        await _main!.SendAsync(JsonSerializer.Serialize(new { type = "chat", runId = attack.RunId, threadId = attack.ConversationId, text = PlannedAttack.ContinueText }), cancellationToken);
        await Wait(observation.WatchTerminal.Task, cancellationToken);
        await Wait(observation.MainTerminal.Task, cancellationToken);
    }

    public async Task CloseAsync()
    {
        if (_main is not null)
        {
            await _main.CloseAsync();
            await _main.DisposeAsync();
        }

        if (_watch is not null)
        {
            await _watch.CloseAsync();
            await _watch.DisposeAsync();
        }
    }

    private static async Task Wait(Task task, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(TerminalWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Recorded as missing by the observation; the user moves on.
        }
    }

    private async Task<ISimulatedConnection> OpenAsync(string role, CancellationToken cancellationToken)
    {
        var connection = _connect($"{UserId}/{role}#{Interlocked.Increment(ref _connections)}", role, OnEvent);
        await connection.ConnectAsync(cancellationToken);
        return connection;
    }

    private void OnEvent(ISimulatedConnection connection, ReceivedEvent received)
    {
        _tally.EventReceived();
        if (!string.Equals(received.UserId, UserId, StringComparison.Ordinal))
        {
            _tally.CrossUser($"{connection.Name} received '{received.Type}' of user '{received.UserId}' (run {received.RunId})");
            return;
        }

        if (received.Type is "ready" or "protocol_error")
        {
            if (received.Type == "protocol_error")
            {
                _tally.ProtocolError($"{connection.Name}: protocol_error for run {received.RunId}");
            }

            return;
        }

        if (received.RunId is not null && _attacks.TryGetValue(received.RunId, out var attack))
        {
            OnAttackEvent(connection, attack, received);
            return;
        }

        if (received.RunId is null || !_observations.TryGetValue(received.RunId, out var observation))
        {
            _tally.CrossUser($"{connection.Name} received '{received.Type}' of run {received.RunId}, which this user never started");
            return;
        }

        var isWatch = connection.Name.Contains("/watch", StringComparison.Ordinal);

        // A run executes on the node of the main tab that sent it: an event on a tab of another node crossed through Redis.
        _tally.RunEventReceived(crossedNodes: connection.Node != _main?.Node);
        if (received.Type is AgentEventTypes.AgentStarted or AgentEventTypes.ToolExecuting)
        {
            observation.Started.TrySetResult();
        }

        if (!AgentEventTypes.IsTerminal(received.Type))
        {
            return;
        }

        if (isWatch)
        {
            if (Interlocked.Increment(ref observation.WatchTerminals) == 1)
            {
                observation.TerminalType = received.Type;
                observation.TerminalStatus = received.Status;
                observation.EndedAt = Stopwatch.GetTimestamp();
            }

            if (received.Status == "completed")
            {
                _conversationStored.TrySetResult(true);
            }

            observation.WatchTerminal.TrySetResult();
        }
        else
        {
            Interlocked.Increment(ref observation.MainTerminals);
            observation.MainTerminal.TrySetResult();
        }
    }

    private static void OnAttackEvent(ISimulatedConnection connection, AttackObservation attack, ReceivedEvent received)
    {
        if (received.Type == Agents.ChatEventTypes.Answer)
        {
            attack.Answer = received.Text;
        }

        if (!AgentEventTypes.IsTerminal(received.Type))
        {
            return;
        }

        if (connection.Name.Contains("/watch", StringComparison.Ordinal))
        {
            if (Interlocked.Increment(ref attack.WatchTerminals) == 1)
            {
                attack.TerminalStatus = received.Status;
            }

            attack.WatchTerminal.TrySetResult();
        }
        else
        {
            Interlocked.Increment(ref attack.MainTerminals);
            attack.MainTerminal.TrySetResult();
        }
    }
}

/// <summary>Makes a (not yet connected) tab of the user; <paramref name="role"/> is <c>main</c> or <c>watch</c>.</summary>
internal delegate ISimulatedConnection ConnectionFactory(string name, string role, Action<ISimulatedConnection, ReceivedEvent> onEvent);

/// <summary>What the clients saw of one run.</summary>
internal sealed class RunObservation(PlannedRun run)
{
    public int WatchTerminals;
    public int MainTerminals;

    public PlannedRun Run { get; } = run;

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource WatchTerminal { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource MainTerminal { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long SentAt { get; set; }

    public long EndedAt { get; set; }

    public string? TerminalType { get; set; }

    public string? TerminalStatus { get; set; }

    public TimeSpan Latency => EndedAt == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(SentAt, EndedAt);
}
