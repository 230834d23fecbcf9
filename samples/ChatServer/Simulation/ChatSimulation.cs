using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using ChatServer.Dashboard;
using ChatServer.Realtime;
using Isolation;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

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

    /// <summary>Runs the simulation and returns its report.</summary>
    /// <param name="options">Users, runs, failure rate, seed and attackers.</param>
    /// <param name="progress">Where progress lines go while it runs.</param>
    /// <param name="configure">Changes the server's builder after the simulation's settings, e.g. a PostgreSQL connection string in tests.</param>
    /// <param name="cancellationToken">Stops the simulation.</param>
    public static async Task<SimulationReport> RunAsync(
        SimulationOptions options, TextWriter progress, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        var started = Stopwatch.GetTimestamp();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "chatserver-simulate-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var builder = ChatServerApp.CreateBuilder([], b =>
            {
                b.Logging.ClearProviders();
                b.Configuration.AddInMemoryCollection(Settings(dataDirectory, RunDeadlineFor(options.Users)));
                configure?.Invoke(b);
            });
            await using var app = ChatServerApp.Build(builder);
            await app.StartAsync(cancellationToken);
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            var database = app.Services.GetRequiredService<Data.ChatDatabase>();
            await progress.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"simulate: {options.Users} users, {options.Runs} runs, failure rate {options.FailureRate:0.###}, seed {options.Seed}; server on {address}, {database.Provider}"));

            // What a leak report names: the agent type and, at Paranoid, where it was created (first frame).
            var leakDetails = new System.Collections.Concurrent.ConcurrentQueue<string>();
            app.Services.GetRequiredService<IsolationMonitor>().LeakDetected += (_, e) =>
            {
                if (leakDetails.Count < 5)
                {
                    var created = e.Violation.CreationStackTrace?.Split('\n', 2)[0].Trim();
                    leakDetails.Enqueue(e.Violation.Kind.ToTagValue() + " " + e.Violation.ResourceType + " of " + e.Violation.Context + (created is null ? string.Empty : " created " + created));
                }
            };
            // Every violation, to tell the attackers' refused attempts from anything else.
            var violations = new System.Collections.Concurrent.ConcurrentQueue<IsolationViolation>();
            app.Services.GetRequiredService<IsolationMonitor>().ViolationDetected += (_, e) => violations.Enqueue(e.Violation);
            var tally = new SimulationTally();
            var plan = PlannedRun.CreatePlan(options);
            var attacks = PlannedAttack.CreatePlan(options);
            using var http = new HttpClient { BaseAddress = address };
            var users = await ConnectAsync(http, address, plan, attacks, tally, cancellationToken);
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {users.Length} users connected ({users.Length * 2} WebSockets) in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s"));

            using var stopProgress = new CancellationTokenSource();
            var progressLoop = ReportProgressAsync(progress, tally, options.Runs, started, stopProgress.Token);
            await Task.WhenAll(users.Select(u => u.RunAsync(cancellationToken)));
            await stopProgress.CancelAsync();
            await progressLoop;

            // Drain: abandoned work returns, every connection closes, then the leak checks run on a quiet server.
            var runs = app.Services.GetRequiredService<ActiveRuns>();
            var idle = true;
            try
            {
                await runs.WaitForIdleAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
            }
            catch (TimeoutException)
            {
                idle = false;
            }

            await Task.WhenAll(users.Select(u => u.CloseAsync()));
            var registry = app.Services.GetRequiredService<IConnectionRegistry>();
            await WaitUntilAsync(() => registry.ConnectionCount == 0 && runs.Count == 0, TimeSpan.FromSeconds(10), cancellationToken);

            var monitor = app.Services.GetRequiredService<IsolationMonitor>();
            // An agent leak is an agent still reachable through a full collection that started after a check saw its
            // grace period over: check, collect, check again.
            monitor.CheckForLeaks();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            monitor.CheckForLeaks();

            var metrics = app.Services.GetRequiredService<IsolationMetricsAggregator>();
            var report = SimulationReport.Create(
                options,
                users.SelectMany(u => u.Observations).ToList(),
                users.SelectMany(u => u.Attacks).ToList(),
                violations,
                tally,
                monitor,
                metrics,
                idle,
                registry.ConnectionCount,
                Stopwatch.GetElapsedTime(started),
                leakDetails);
            await app.StopAsync(CancellationToken.None);
            return report;
        }
        finally
        {
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
        HttpClient http, Uri address, IReadOnlyList<PlannedRun>[] plan, IReadOnlyList<PlannedAttack> attacks, SimulationTally tally, CancellationToken cancellationToken)
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
                var socketUri = new UriBuilder(address) { Scheme = "ws", Path = "/ws", Query = "access_token=" + Uri.EscapeDataString(token) }.Uri;
                var user = new SimulatedUser(userId, socketUri, http, token, plan[i], attacks.Where(a => a.Attacker == i), tally);
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
