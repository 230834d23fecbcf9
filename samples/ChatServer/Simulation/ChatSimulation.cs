using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Isolation;

namespace ChatServer.Simulation;

/// <summary>
/// Runs the simulation: the real chat server on a free loopback port, every simulated user on real WebSockets, failures
/// injected as planned, then the server is drained and checked for leaks, and the report is assembled from what the
/// clients saw and what the library measured.
/// </summary>
public static class ChatSimulation
{
    /// <summary>The run deadline of the simulated server for up to 500 users: hung runs end here; clean runs take a few tens of milliseconds.</summary>
    public static readonly TimeSpan RunDeadline = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The run deadline for <paramref name="users"/> simulated users: <see cref="RunDeadline"/>, plus 4 ms per user above 500,
    /// because every user's runs share the machine's cores and the database sessions (2000 users: 8 s).
    /// </summary>
    public static TimeSpan RunDeadlineFor(int users) => RunDeadline + TimeSpan.FromMilliseconds(4 * Math.Max(0, users - 500));

    /// <summary>The environment variable that names the Redis of <c>--nodes</c> above 1 when <c>--redis</c> is not given.</summary>
    public const string RedisVariable = "ISOLATION_TEST_REDIS";

    /// <summary>Replaces the process environment for the current flow only (tests: "as if ISOLATION_TEST_REDIS were unset").</summary>
    internal static readonly AsyncLocal<Func<string, string?>?> ReadEnvironment = new();

    /// <summary>The Redis the nodes share: <see cref="SimulationOptions.Redis"/>, else <c>ISOLATION_TEST_REDIS</c>; <see langword="null"/> when neither is set.</summary>
    public static string? RedisFor(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var redis = options.Redis ?? (ReadEnvironment.Value ?? Environment.GetEnvironmentVariable)(RedisVariable);
        return string.IsNullOrWhiteSpace(redis) ? null : redis;
    }

    /// <summary>Runs the simulation and returns its report.</summary>
    /// <param name="options">Users, runs, failure rate, seed, attackers, transport and nodes.</param>
    /// <param name="progress">Where progress lines go while it runs.</param>
    /// <param name="configure">Changes each server's builder after the simulation's settings, e.g. a PostgreSQL connection string in tests.</param>
    /// <param name="cancellationToken">Stops the simulation.</param>
    /// <exception cref="InvalidOperationException">More than one node, and no Redis to share.</exception>
    public static async Task<SimulationReport> RunAsync(
        SimulationOptions options, TextWriter progress, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        var redis = RedisFor(options);
        if (options.Nodes > 1 && redis is null)
        {
            throw new InvalidOperationException(NoRedisMessage(options.Nodes));
        }

        var started = Stopwatch.GetTimestamp();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "chatserver-simulate-" + Guid.NewGuid().ToString("N")[..12]);
        var nodes = new List<SimulatedNode>();
        try
        {
            // One node: the server as `dotnet run` starts it. More: the same server N times on one Redis and one database,
            // with one token key, so a user signed in on one node may connect to any other.
            var shared = Settings(dataDirectory, RunDeadlineFor(options.Users));
            var prefix = "chatserver-simulate-" + Guid.NewGuid().ToString("N")[..8];
            if (options.Nodes > 1)
            {
                shared["Chat:Auth:SigningKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
                shared["Isolation:Redis:Configuration"] = redis;
                shared["Isolation:Redis:EnvironmentPrefix"] = prefix;
                shared["Isolation:Redis:SigningKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            }

            for (var n = 0; n < options.Nodes; n++)
            {
                nodes.Add(await SimulatedNode.StartAsync(n, options.Nodes, shared, configure, cancellationToken));
            }

            var database = nodes[0].App.Services.GetRequiredService<Data.ChatDatabase>();
            var where = nodes.Count == 1
                ? $"server on {nodes[0].Address}"
                : $"{nodes.Count} nodes on {string.Join(", ", nodes.Select(n => n.Address.ToString()))} sharing Redis";
            await progress.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"simulate: {options.Users} users, {options.Runs} runs, failure rate {options.FailureRate:0.###}, seed {options.Seed}; {where}, {database.Provider}{(options.Transport == SimulationTransport.SignalR ? ", SignalR" : string.Empty)}"));

            // What a leak report names: the agent type and, at Paranoid, where it was created (first frame).
            var leakDetails = new System.Collections.Concurrent.ConcurrentQueue<string>();
            foreach (var node in nodes)
            {
                node.Monitor.LeakDetected += (_, e) =>
                {
                    if (leakDetails.Count < 5)
                    {
                        var created = e.Violation.CreationStackTrace?.Split('\n', 2)[0].Trim();
                        leakDetails.Enqueue(e.Violation.Kind.ToTagValue() + " " + e.Violation.ResourceType + " of " + e.Violation.Context + (created is null ? string.Empty : " created " + created));
                    }
                };
            }

            // Every violation, to tell the attackers' refused attempts from anything else.
            var violations = new System.Collections.Concurrent.ConcurrentQueue<IsolationViolation>();
            nodes.ForEach(n => n.Monitor.ViolationDetected += (_, e) => violations.Enqueue(e.Violation));
            var tally = new SimulationTally();
            var plan = PlannedRun.CreatePlan(options);
            var attacks = PlannedAttack.CreatePlan(options);
            using var http = new HttpClient { BaseAddress = nodes[0].Address };
            var users = await ConnectAsync(http, nodes, options.Transport, plan, attacks, tally, cancellationToken);
            var kind = options.Transport == SimulationTransport.SignalR ? "SignalR connections" : "WebSockets";
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {users.Length} users connected ({users.Length * 2} {kind}) in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s"));

            using var stopProgress = new CancellationTokenSource();
            var progressLoop = ReportProgressAsync(progress, tally, options.Runs, started, stopProgress.Token);
            await Task.WhenAll(users.Select(u => u.RunAsync(cancellationToken)));
            await stopProgress.CancelAsync();
            await progressLoop;

            // Drain: abandoned work returns, every connection closes, then the leak checks run on a quiet server.
            var idle = true;
            try
            {
                await Task.WhenAll(nodes.Select(n => n.Runs.WaitForIdleAsync(cancellationToken))).WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
            }
            catch (TimeoutException)
            {
                idle = false;
            }

            await Task.WhenAll(users.Select(u => u.CloseAsync()));
            await WaitUntilAsync(() => nodes.All(n => n.Registry.ConnectionCount == 0 && n.Runs.Count == 0), TimeSpan.FromSeconds(10), cancellationToken);

            // An agent leak is an agent still reachable through a full collection that started after a check saw its
            // grace period over: check, collect, check again.
            nodes.ForEach(n => n.Monitor.CheckForLeaks());
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            nodes.ForEach(n => n.Monitor.CheckForLeaks());

            var server = new ServerTotals(nodes.Select(n => n.Monitor).ToList(), nodes.Select(n => n.Metrics).ToList());
            var report = SimulationReport.Create(
                options,
                users.SelectMany(u => u.Observations).ToList(),
                users.SelectMany(u => u.Attacks).ToList(),
                violations,
                tally,
                server,
                idle,
                nodes.Sum(n => n.Registry.ConnectionCount),
                Stopwatch.GetElapsedTime(started),
                leakDetails,
                nodes.Count == 1 ? null : CrossNodeCounts.From(nodes.Count, prefix, nodes.Select(n => n.Redis!), server.DroppedByReason));
            foreach (var node in nodes)
            {
                await node.App.StopAsync(CancellationToken.None);
            }

            return report;
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A temporary folder left behind is not worth failing the report for.
            }
        }
    }

    /// <summary>What <c>simulate --nodes</c> says when there is no Redis to share.</summary>
    public static string NoRedisMessage(int nodes) => string.Create(
        CultureInfo.InvariantCulture,
        $"--nodes {nodes} runs {nodes} server nodes that deliver each other's events through Redis, and no Redis was given. Pass --redis <StackExchange.Redis configuration> (e.g. --redis 127.0.0.1:6379,password=secret) or set {RedisVariable} (source .ci/setup.d/30-redis.sh), or run with --nodes 1.");

    private static Dictionary<string, string?> Settings(string dataDirectory, TimeSpan deadline) => new()
    {
        ["Urls"] = "http://127.0.0.1:0",
        ["Chat:DataDirectory"] = dataDirectory,
        ["Chat:FaultInjection"] = "true",
        ["Chat:ViolationProbe"] = "false",
        ["Chat:ModelLatency"] = "00:00:00.020",
        ["Chat:MaxDatabaseSessions"] = "16",
        ["Chat:Auth:AllowDemoLogin"] = "true",
        ["Isolation:Mode"] = "Enforce",
        ["Isolation:LeakDetection"] = "Full",
        ["Isolation:RetainedAgentGracePeriod"] = "00:00:00",
        ["Isolation:Runner:DefaultDeadline"] = deadline.ToString("c", CultureInfo.InvariantCulture),
        ["Isolation:Runner:AbandonedWorkTimeout"] = "00:00:10",
        ["Isolation:Runner:MaxConcurrentRunsPerUser"] = "4",
        ["Isolation:Rollout:EnforcePercent"] = "100",
        ["Isolation:Rollout:ObservePercent"] = "0",
    };

    private static async Task<SimulatedUser[]> ConnectAsync(
        HttpClient http, IReadOnlyList<SimulatedNode> nodes, SimulationTransport transport, IReadOnlyList<PlannedRun>[] plan, IReadOnlyList<PlannedAttack> attacks,
        SimulationTally tally, CancellationToken cancellationToken)
    {
        var users = new SimulatedUser[plan.Length];
        using var gate = new SemaphoreSlim(16);
        await Task.WhenAll(Enumerable.Range(0, plan.Length).Select(async i =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var userId = PlannedRun.UserName(i);
                using var login = await http.PostAsJsonAsync("/api/login", new { userId }, cancellationToken);
                login.EnsureSuccessStatusCode();
                var token = (await login.Content.ReadFromJsonAsync<ChatServerApp.LoginResponse>(cancellationToken))!.Token;

                // On more than one node, the watch tab is on another node than the main tab, where the user's runs execute.
                var user = new SimulatedUser(userId, (name, role, onEvent) =>
                {
                    var node = (i + (role == "main" ? 1 : 0)) % nodes.Count;
                    var query = "access_token=" + Uri.EscapeDataString(token);
                    return transport == SimulationTransport.SignalR
                        ? new SignalRClientConnection(name, node, new UriBuilder(nodes[node].Address) { Path = "/hub/chat", Query = query }.Uri, onEvent)
                        : new ClientConnection(name, node, new UriBuilder(nodes[node].Address) { Scheme = "ws", Path = "/ws", Query = query }.Uri, onEvent);
                }, http, token, plan[i], attacks.Where(a => a.Attacker == i), tally);
                await user.ConnectAsync(cancellationToken);
                users[i] = user;
            }
            finally
            {
                gate.Release();
            }
        }));
        foreach (var user in users)
        {
            user.Everyone = users;
        }

        return users;
    }

    private static async Task ReportProgressAsync(TextWriter progress, SimulationTally tally, int total, long started, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await progress.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  [{Stopwatch.GetElapsedTime(started).TotalSeconds,5:0.0} s] {tally.Finished,6}/{total} runs ended · {tally.Events} events received · {tally.CrossUserEvents} cross-user"));
            }
        }
        catch (OperationCanceledException)
        {
            // Done.
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan limit, CancellationToken cancellationToken)
    {
        // The server removes a closed connection on its own schedule and offers nothing to wait on: look again shortly.
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (!condition() && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(20, cancellationToken);
        }
    }
}
