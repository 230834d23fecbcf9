using System.Collections.Concurrent;
using Isolation.Tests.Events;
using Isolation.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Isolation.Tests.Execution;

/// <summary>
/// Many users, many runs, every way a run can end, at once: every run must reach exactly one terminal state and one
/// terminal event, no event may cross users, nothing may leak, and healthy runs must complete. Seeded; the seed is printed.
/// </summary>
public sealed class RunnerChaosTests
{
    private const int Users = 100;
    private const int Runs = 1_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly RunOptions HangDeadline = new() { Deadline = TimeSpan.FromMilliseconds(300) };

    private enum Outcome
    {
        Complete,
        Throw,
        Hang,
        Cancel,
        DatabaseError,
        DisconnectMidRun,
    }

    [Fact]
    public async Task RunAsync_ThousandRunsHundredUsersRandomFailures_IsolationHolds()
    {
        var seed = Environment.GetEnvironmentVariable("ISOLATION_CHAOS_SEED") is { } text ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 20261126;
        TestContext.Current.TestOutputHelper?.WriteLine($"chaos seed {seed} (set ISOLATION_CHAOS_SEED to replay)");
        var random = new Random(seed);
        var database = "file:chaos-" + Guid.NewGuid().ToString("N") + "?mode=memory&cache=shared";
        using var keepAlive = new SqliteConnection("Data Source=" + database);
        keepAlive.Open();
        using (var create = keepAlive.CreateCommand())
        {
            create.CommandText = "CREATE TABLE notes (run TEXT NOT NULL, note TEXT NOT NULL)";
            create.ExecuteNonQuery();
        }

        var services = new ServiceCollection()
            .AddIsolation(o => o.LeakDetection = LeakDetectionLevel.Full)
            .AddScoped<ScopedDependency>()
            .AddIsolatedAgent<NotesAgent>()
            .AddIsolatedSession<SqliteConnection>(
                async (_, ct) =>
                {
                    var connection = new SqliteConnection("Data Source=" + database);
                    await connection.OpenAsync(ct);
                    return connection;
                },
                o =>
                {
                    o.MaxSessions = 10;
                    o.AcquireTimeout = TimeSpan.FromSeconds(20);
                });
        services.Configure<IsolatedRunnerOptions>(o =>
        {
            // Generous for every run but the hanging ones, which get a short deadline of their own: a clean run must not
            // time out just because the shared machine is slow.
            o.DefaultDeadline = TimeSpan.FromSeconds(30);
            o.MaxConcurrentRunsPerUser = 4;
            o.QueuedRunsPerUser = Runs;
        });
        await using var provider = services.BuildServiceProvider();
        using var ended = new MetricCollector<double>(provider.GetRequiredService<IsolationMonitor>().Metrics.Meter, IsolationTelemetry.ScopeDuration);
        var runner = provider.GetRequiredService<IIsolatedRunner>();
        var registry = provider.GetRequiredService<IConnectionRegistry>();
        var monitor = provider.GetRequiredService<IsolationMonitor>();
        var sinks = Enumerable.Range(0, Users).Select(u => new RecordingSink("user-" + u, "main")).ToArray();
        var registrations = sinks.Select(registry.Register).ToList();
        var hangRelease = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var plan = Enumerable.Range(0, Runs).Select(i => (User: random.Next(Users), Outcome: (Outcome)random.Next(6), Index: i)).ToArray();
        var results = new ConcurrentDictionary<int, RunResult>();

        var all = plan.Select(p => Task.Run(async () =>
        {
            var context = new UserExecutionContext("user-" + p.User, "conn-" + p.Index, "run-" + p.Index);
            using var caller = new CancellationTokenSource();
            using var ownConnection = registry.Register(new RecordingSink(context.UserId, context.ConnectionId!));
            results[p.Index] = await runner.RunAsync(context, async (scope, ct) =>
            {
                var agent = scope.GetAgent<NotesAgent>();
                agent.Add("run " + p.Index);
                await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, p.Outcome.ToString(), ct);
                switch (p.Outcome)
                {
                    case Outcome.Throw:
                        throw new InvalidOperationException("injected failure " + p.Index);
                    case Outcome.Hang:
                        await hangRelease.Task; // ignores cancellation: the runner must stop waiting anyway
                        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, "abandoned", CancellationToken.None);
                        return;
                    case Outcome.Cancel:
                        await caller.CancelAsync();
                        await Task.Delay(Timeout.Infinite, ct);
                        return;
                    case Outcome.DisconnectMidRun:
                        ownConnection.Dispose();
                        await scope.Events.EmitAsync(AgentEventTypes.ToolExecuting, "search", ct);
                        return;
                }

                await using var session = await scope.OpenSessionAsync<SqliteConnection>(ct);
                await using var command = session.AsDbConnection().CreateCommand();
                command.CommandText = p.Outcome == Outcome.DatabaseError
                    ? "INSERT INTO missing_table VALUES (1)"
                    : "INSERT INTO notes (run, note) VALUES ($run, $note)";
                command.Parameters.Add(new SqliteParameter("$run", context.RunId));
                command.Parameters.Add(new SqliteParameter("$note", agent.Notes[0]));
                await command.ExecuteNonQueryAsync(ct);
                await scope.Events.EmitAsync(AgentEventTypes.ToolCompleted, "saved", ct);
            }, p.Outcome == Outcome.Hang ? HangDeadline : null, caller.Token);
        })).ToArray();
        await Task.WhenAll(all).WaitAsync(Bound);

        // Every run ended in exactly one terminal state, the one its injected outcome calls for.
        Assert.Equal(Runs, results.Count);
        foreach (var p in plan)
        {
            var expected = p.Outcome switch
            {
                Outcome.Complete or Outcome.DisconnectMidRun => RunStatus.Completed,
                Outcome.Throw or Outcome.DatabaseError => RunStatus.Failed,
                Outcome.Hang => RunStatus.TimedOut,
                _ => RunStatus.Cancelled,
            };
            Assert.True(expected == results[p.Index].Status, $"seed {seed}: run {p.Index} ({p.Outcome}) ended {results[p.Index].Status}, expected {expected}");
        }

        Assert.All(plan.Where(p => p.Outcome == Outcome.DatabaseError), p => Assert.IsType<SqliteException>(results[p.Index].Exception));

        // Abandoned (hung) runs return now; their late events must go nowhere, and their scopes must end.
        hangRelease.SetResult();
        await ended.WaitForMeasurementsAsync(Runs, Bound);

        Assert.Equal(Runs, monitor.FinishedScopes);

        // Each user's main connection saw exactly one terminal event per run of that user, last, and nothing of others.
        foreach (var sink in sinks)
        {
            var received = sink.Received;
            Assert.All(received, e => Assert.Equal(sink.UserId, e.UserId));
            var mine = plan.Where(p => "user-" + p.User == sink.UserId).Select(p => "run-" + p.Index).ToHashSet();
            Assert.All(received, e => Assert.Contains(e.RunId, mine));
            foreach (var run in received.GroupBy(e => e.RunId))
            {
                var events = run.OrderBy(e => e.Sequence).ToArray();
                Assert.Single(events, e => AgentEventTypes.IsTerminal(e.Type));
                Assert.True(AgentEventTypes.IsTerminal(events[^1].Type), $"seed {seed}: {run.Key} did not end with its terminal event");
                Assert.DoesNotContain(events, e => Equals(e.Payload, "abandoned"));
                Assert.Equal(Enumerable.Range(1, events.Length).Select(i => (long)i), events.Select(e => e.Sequence));
            }

            Assert.Equal(mine.Count, received.Select(e => e.RunId).Distinct().Count());
        }

        // Nothing crossed users, nothing leaked, and every session went back to its pool.
        Assert.Equal(0, monitor.TotalViolations);
        await using (var check = provider.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("checker")))
        {
            var sessions = new List<SessionGuard<SqliteConnection>>();
            for (var i = 0; i < 10; i++)
            {
                sessions.Add(await check.OpenSessionAsync<SqliteConnection>().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
            }

            foreach (var session in sessions)
            {
                await session.DisposeAsync();
            }
        }

        using var count = keepAlive.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM notes";
        Assert.Equal(plan.LongCount(p => p.Outcome is Outcome.Complete), (long)count.ExecuteScalar()!);
        registrations.ForEach(r => r.Dispose());
    }
}
