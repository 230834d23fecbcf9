using System.Collections.Concurrent;
using Isolation.Tests.Events;
using Isolation.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Isolation.Tests.Execution;

/// <summary>
/// Many users, many runs, every way a run can end, at once: every run must reach exactly one terminal state and one
/// terminal event, no event may cross users, no user may have more work running than its limit, a pooled agent never
/// carries one run's notes into another's, nothing may leak, and healthy runs must complete. Hangs come in two kinds:
/// work that returns after its deadline, and work that outlives <see cref="IsolatedRunnerOptions.AbandonedWorkTimeout"/>
/// and writes to its pooled agent afterwards (which must be reported, never seen by anyone else). Seeded; the seed is printed.
/// </summary>
public sealed class RunnerChaosTests
{
    private const int Users = 100;
    private const int Runs = 1_000;
    private const int PerUser = 2;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly RunOptions HangDeadline = new() { Deadline = TimeSpan.FromMilliseconds(150) };

    private enum Outcome
    {
        Complete,
        Throw,
        Hang,
        Cancel,
        DatabaseError,
        DisconnectMidRun,
        HangPastGiveUp,
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
            .AddScoped<RunningWork>()
            .AddIsolatedAgent<NotesAgent>()
            .AddIsolatedAgent<PooledNotesAgent>(o =>
            {
                o.UsePool = true;
                o.MaximumRetained = 8;
            })
            .AddIsolatedAgent(_ => new DisposableAgent())
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
        // Every run registers its own connection next to the user's main one: up to a run per user at once.
        services.Configure<EventDeliveryOptions>(o => o.MaxConnectionsPerUser = Runs + 1);
        services.Configure<IsolatedRunnerOptions>(o =>
        {
            // Generous for every run but the hanging ones, which get a short deadline of their own: a clean run must not
            // time out just because the shared machine is slow.
            o.DefaultDeadline = TimeSpan.FromSeconds(30);
            o.MaxConcurrentRunsPerUser = PerUser;
            o.QueuedRunsPerUser = Runs;
            o.AbandonedWorkTimeout = TimeSpan.FromMilliseconds(300);
            o.MaxAbandonedRuns = Runs;
        });
        await using var provider = services.BuildServiceProvider();
        using var ended = new MetricCollector<double>(provider.GetRequiredService<IsolationMonitor>().Metrics.Meter, IsolationTelemetry.ScopeDuration);
        var runner = provider.GetRequiredService<IIsolatedRunner>();
        var registry = provider.GetRequiredService<IConnectionRegistry>();
        var monitor = provider.GetRequiredService<IsolationMonitor>();
        var sinks = Enumerable.Range(0, Users).Select(u => new RecordingSink("user-" + u, "main")).ToArray();
        var registrations = sinks.Select(registry.Register).ToList();
        var hangRelease = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var plan = Enumerable.Range(0, Runs).Select(i => (User: random.Next(Users), Outcome: (Outcome)random.Next(7), Index: i)).ToArray();
        var results = new ConcurrentDictionary<int, RunResult>();
        var running = new RunningWork.Counters();
        var foreignNotes = new ConcurrentBag<string>();
        var lateWrites = 0;
        var hanging = 0;

        var all = plan.Select(p => Task.Run(async () =>
        {
            var context = new UserExecutionContext("user-" + p.User, "conn-" + p.Index, "run-" + p.Index);
            using var caller = new CancellationTokenSource();
            using var ownConnection = registry.Register(new RecordingSink(context.UserId, context.ConnectionId!));
            results[p.Index] = await runner.RunAsync(context, async (scope, ct) =>
            {
                using var work = scope.Services.GetRequiredService<RunningWork>().Start(running, context.UserId);
                var agent = scope.GetAgent<NotesAgent>();
                agent.Add("run " + p.Index);
                scope.GetAgent<DisposableAgent>();
                var pooled = scope.GetAgent<PooledNotesAgent>();
                foreach (var note in pooled.Notes)
                {
                    foreignNotes.Add(note);
                }

                pooled.Add("run " + p.Index);
                await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, p.Outcome.ToString(), ct);
                switch (p.Outcome)
                {
                    case Outcome.HangPastGiveUp:
                        Interlocked.Increment(ref hanging);
                        await hangRelease.Task; // outlives the abandoned-work timeout: given up while still running
                        try
                        {
                            pooled.Add("late " + p.Index);
                        }
                        catch (IsolationViolationException ex) when (ex.Kind == ViolationKind.UseAfterReturn)
                        {
                            Interlocked.Increment(ref lateWrites);
                        }

                        return;
                    case Outcome.Throw:
                        throw new InvalidOperationException("injected failure " + p.Index);
                    case Outcome.Hang:
                        // Ignores cancellation: returns after its deadline passed, but before it is given up.
                        await Task.Delay(Timeout.Infinite, scope.Aborted).ContinueWith(static _ => { }, TaskScheduler.Default);
                        await Task.Delay(20, CancellationToken.None);
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
            }, p.Outcome is Outcome.Hang or Outcome.HangPastGiveUp ? HangDeadline : null, caller.Token);
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
                Outcome.Hang or Outcome.HangPastGiveUp => RunStatus.TimedOut,
                _ => RunStatus.Cancelled,
            };
            Assert.True(expected == results[p.Index].Status, $"seed {seed}: run {p.Index} ({p.Outcome}) ended {results[p.Index].Status}, expected {expected}");
        }

        Assert.All(plan.Where(p => p.Outcome == Outcome.DatabaseError), p => Assert.IsType<SqliteException>(results[p.Index].Exception));

        // Every scope ended, the given-up ones included; no user ever had more work running than its limit.
        await ended.WaitForMeasurementsAsync(Runs, Bound);
        Assert.Equal(Runs, monitor.FinishedScopes);
        Assert.True(running.Max <= PerUser, $"seed {seed}: a user had {running.Max} pieces of work running at once; the limit is {PerUser}");
        Assert.Empty(foreignNotes);

        // The given-up work returns now and writes to its pooled agent: reported, never handed to anyone.
        hangRelease.SetResult();
        // On a starved machine a run can pass its 150 ms deadline before it reaches the hang (its emit is cancelled, or its
        // scope is given up first): such work never writes late. Every piece of work that did reach it must be reported.
        Assert.True(Volatile.Read(ref hanging) > 0, $"seed {seed}: no run reached its hang; the test proves nothing");
        var deadline = DateTime.UtcNow + Bound;
        while (Volatile.Read(ref lateWrites) < Volatile.Read(ref hanging) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(Volatile.Read(ref hanging) == Volatile.Read(ref lateWrites), $"seed {seed}: {Volatile.Read(ref lateWrites)} of {Volatile.Read(ref hanging)} late writes of given-up work were reported as use_after_return");

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

        // Nothing crossed users, nothing leaked, and every session went back to its pool: the only violations are the
        // late writes of given-up work, each reported as use_after_return.
        Assert.Equal(Volatile.Read(ref lateWrites), monitor.GetViolationCount(ViolationKind.UseAfterReturn));
        Assert.Equal(Volatile.Read(ref lateWrites), monitor.TotalViolations);
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

    /// <summary>A scoped record of one run's work: counted from the work's start until it returns or its scope ends.</summary>
    private sealed class RunningWork : IDisposable
    {
        private Counters? _counters;
        private string? _userId;

        public RunningWork Start(Counters counters, string userId)
        {
            _counters = counters;
            _userId = userId;
            counters.Enter(userId);
            return this;
        }

        // Called by the work when it returns and by the DI scope when its scope ends (given-up work): counted once.
        public void Dispose() => Interlocked.Exchange(ref _counters, null)?.Exit(_userId!);

        public sealed class Counters
        {
            private readonly ConcurrentDictionary<string, int> _running = new();
            private int _max;

            public int Max => Volatile.Read(ref _max);

            public void Enter(string userId)
            {
                var now = _running.AddOrUpdate(userId, 1, static (_, n) => n + 1);
                int seen;
                while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen)
                {
                }
            }

            public void Exit(string userId) => _running.AddOrUpdate(userId, 0, static (_, n) => n - 1);
        }
    }
}
