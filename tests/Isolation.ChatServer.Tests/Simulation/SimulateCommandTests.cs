using System.Data.Common;
using ChatServer.Agents;
using ChatServer.Simulation;
using ChatServer.Tests.Infrastructure;
using Isolation;
using Isolation.AgentFramework;
using Microsoft.Agents.AI;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace ChatServer.Tests.Simulation;

/// <summary>The <c>simulate</c> command end to end: a real server, real WebSockets, injected failures, the report and the exit code.</summary>
public sealed class SimulateCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_20Users100Runs_IsolationHeldExitCode0()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await SimulateCommand.RunAsync(["--users", "20", "--runs", "100", "--failure-rate", "0.2", "--seed", "7"], output, error, Ct);

        var text = output.ToString();
        Assert.True(exitCode == SimulateCommand.Held, text + error);
        Assert.Contains("simulate: 20 users, 100 runs, failure rate 0.2, seed 7", text, StringComparison.Ordinal);
        Assert.Contains("20 users connected (40 WebSockets)", text, StringComparison.Ordinal);
        Assert.Contains("exactly one terminal event per run       100/100", text, StringComparison.Ordinal);
        Assert.Contains("cross-user events seen by clients        0", text, StringComparison.Ordinal);
        Assert.Contains("stolen conversation ids (3 attackers)    attempts 6 (load, continue)  refused 6  foreign history returned 0", text, StringComparison.Ordinal);
        Assert.Contains("6 against the attackers' refused attempts, 0 anywhere else", text, StringComparison.Ordinal);
        Assert.Contains("Isolation held.", text, StringComparison.Ordinal);
        Assert.Empty(error.ToString());
    }

    [Fact]
    public async Task RunAsync_NoFailuresInjected_ReportSaysSoAndLeavesTheWarmUpOutOfAgentCreation()
    {
        using var output = new StringWriter();

        var exitCode = await SimulateCommand.RunAsync(["--users", "3", "--runs", "6", "--failure-rate", "0", "--attackers", "0"], output, TextWriter.Null, Ct);

        var text = output.ToString();
        Assert.True(exitCode == SimulateCommand.Held, text);
        Assert.Contains("injected failures                        none", text, StringComparison.Ordinal);
        Assert.Contains("clean runs completed                     6/6 (clean: no injected failure)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("slow_client runs completed", text, StringComparison.Ordinal);
        Assert.Contains("(6 runs)", text, StringComparison.Ordinal);

        // The server's warm-up created the first ChatAgent: counted, but not in the percentiles.
        Assert.Contains("(6 of 7 agents: the first of each type, JIT warm-up, left out)", text, StringComparison.Ordinal);
        Assert.Contains("finished scopes without a violation)", text, StringComparison.Ordinal);
        Assert.Contains("isolation score                          1.0000 (8 of 8 finished scopes without a violation)", text, StringComparison.Ordinal);
        Assert.Contains("scopes: one per run, one per history request (the attackers' loads), and two of the server's start-up (schema, agent warm-up)", text, StringComparison.Ordinal);
        Assert.Contains("Isolation held. (No failures were injected.)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Injected failures ended their own runs", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" 0.0 ms", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EveryRunInjected_CleanLatencyIsNotAvailableNotZero()
    {
        var options = new SimulationOptions { Users = 4, Runs = 8, FailureRate = 1, Seed = 2 };
        using var output = new StringWriter();

        var report = await ChatSimulation.RunAsync(options, TextWriter.Null, configure: null, Ct);
        report.Write(output);

        Assert.True(report.IsolationHeld, string.Join(Environment.NewLine, report.Failures));
        Assert.Equal(0, report.CleanRuns);
        Assert.Null(report.CleanP50Ms);
        var text = output.ToString();
        Assert.Contains("clean run latency (send → completed)     n/a (no clean run completed)", text, StringComparison.Ordinal);
        Assert.Contains("clean runs completed                     0/0", text, StringComparison.Ordinal);
        Assert.Contains("Isolation held. (Injected failures ended their own runs; none reached another user or run.)", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_RunsSlowerThanTheDeadline_OverloadOnlyNotShownRatherThanBrokenExitCode1()
    {
        using var output = new StringWriter();

        // A model slower than the 2 s run deadline: every clean run times out, and nothing else goes wrong.
        var exitCode = await SimulateCommand.RunAsync(
            ["--users", "2", "--runs", "2", "--failure-rate", "0", "--attackers", "0"],
            output,
            TextWriter.Null,
            b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Chat:ModelLatency"] = "00:00:05" }),
            Ct);

        var text = output.ToString();
        Assert.True(exitCode == SimulateCommand.Broken, text);
        Assert.Contains("ISOLATION NOT SHOWN (every other check passed; the machine was too busy):", text, StringComparison.Ordinal);
        Assert.Contains("  - OVERLOAD: 2 runs that had to complete (clean or slow_client) timed out", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ISOLATION BROKEN", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EveryFailureKindInjected_EachEndsItsOwnRunAndNothingElse()
    {
        var options = new SimulationOptions { Users = 12, Runs = 96, FailureRate = 0.6, Seed = 3 };

        var report = await ChatSimulation.RunAsync(options, TextWriter.Null, configure: null, Ct);

        Assert.True(report.IsolationHeld, string.Join(Environment.NewLine, report.Failures));
        Assert.Equal(96, report.Runs);
        Assert.Equal(96, report.RunsWithOneTerminal);
        Assert.Equal(0, report.CrossUserEvents);
        Assert.True(report.EventsReceived > 96 * 4, $"only {report.EventsReceived} events were received");
        Assert.Equal(report.AttackViolations, report.Violations);
        Assert.Equal(report.AttackAttempts, report.AttackRefused);
        Assert.Equal(0, report.ForeignHistoryReturned);
        Assert.Equal(0, report.Leaks);
        Assert.Equal(report.CleanRuns, report.CleanRunsCompleted);
        Assert.Equal(96 + (report.AttackAttempts / 2), report.ServerRunsByStatus.Values.Sum());
        foreach (var failure in Enum.GetValues<InjectedFailure>())
        {
            Assert.True(report.Injected.GetValueOrDefault(failure) > 0, $"the plan has no {failure} run; pick another seed");
        }

        InjectedOutcomes.AssertFailedOrOverloaded(report, InjectedFailure.Exception);
        InjectedOutcomes.AssertFailedOrOverloaded(report, InjectedFailure.DatabaseError);
        Assert.Equal(["timed_out"], report.Outcomes[InjectedFailure.Hang].Keys);
        Assert.Equal(["timed_out"], report.Outcomes[InjectedFailure.Stuck].Keys);
        Assert.Equal(["completed"], report.Outcomes[InjectedFailure.SlowClient].Keys);
        Assert.Equal(["completed"], report.Outcomes[InjectedFailure.None].Keys);
        Assert.All(report.Outcomes[InjectedFailure.VanishingClient].Keys, status => Assert.Contains(status, new[] { "cancelled", "completed" }));
    }

    [Fact]
    public async Task RunAsync_ServerWithASharedAgent_ReportsTheViolationAndExitCode1()
    {
        using var output = new StringWriter();

        // The planted bug: the probe agent's factory hands one instance to every scope, as a singleton registration would.
        var exitCode = await SimulateCommand.RunAsync(
            ["--users", "4", "--runs", "8", "--failure-rate", "0", "--attackers", "0"],
            output,
            TextWriter.Null,
            b =>
            {
                b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Chat:ViolationProbe"] = "true" });
                b.Services.AddHostedService<SharedAgentBug>();
            },
            Ct);

        var text = output.ToString();
        Assert.Equal(SimulateCommand.Broken, exitCode);
        Assert.Contains("ISOLATION BROKEN", text, StringComparison.Ordinal);
        Assert.Contains("isolation violations were reported: singleton_reuse 1", text, StringComparison.Ordinal);
        Assert.Contains("isolation score is 0.", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Attackers_EveryAttemptRefusedAgainstTheAttackerNoForeignHistory()
    {
        var options = new SimulationOptions { Users = 10, Runs = 30, FailureRate = 0, Seed = 2, Attackers = 4 };

        var report = await ChatSimulation.RunAsync(options, TextWriter.Null, configure: null, Ct);

        Assert.True(report.IsolationHeld, string.Join(Environment.NewLine, report.Failures));
        Assert.Equal(8, report.AttackAttempts);
        Assert.Equal(8, report.AttackRefused);
        Assert.Equal(0, report.ForeignHistoryReturned);
        Assert.Equal(0, report.AttacksSkipped);
        Assert.Equal(8, report.AttackViolations);
        Assert.Equal(8, report.Violations);

        // The victims were not touched: every one of their runs completed.
        Assert.Equal(30, report.CleanRuns);
        Assert.Equal(30, report.CleanRunsCompleted);
        Assert.Equal(4, report.ServerRunsByStatus["failed"]);
    }

    [Fact]
    public async Task RunAsync_StoreWithoutTheOwnerCheck_ForeignHistoryReturnedExitCode1()
    {
        using var output = new StringWriter();

        // The planted bug: conversations straight from the SQL store, the owner check forgotten.
        var exitCode = await SimulateCommand.RunAsync(
            ["--users", "4", "--runs", "8", "--failure-rate", "0", "--attackers", "2"],
            output,
            TextWriter.Null,
            b => b.Services.AddSingleton<AgentSessionStore>(sp => sp.GetRequiredService<SqlAgentSessionStore<DbConnection>>()),
            Ct);

        var text = output.ToString();
        Assert.Equal(SimulateCommand.Broken, exitCode);
        Assert.Contains("ISOLATION BROKEN", text, StringComparison.Ordinal);
        Assert.Contains("messages of another user's conversation reached an attacker", text, StringComparison.Ordinal);
        Assert.Contains("attempts with another user's conversation id were not refused", text, StringComparison.Ordinal);
        Assert.DoesNotContain("foreign history returned 0", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--attackers", "5" }, 5)]
    [InlineData(new[] { "--attackers", "0.25" }, 3)]
    [InlineData(new[] { "--attackers", "1.0" }, 10)]
    [InlineData(new[] { "--attackers", "0" }, 0)]
    [InlineData(new string[0], 3)]
    public void Bind_Attackers_CountOrShareOfTheUsers(string[] args, int attackers)
    {
        var command = new SimulateCommand();
        var result = command.Parse([.. args, "--users", "10"]);
        Assert.Empty(result.Errors);
        Assert.Equal(attackers, command.Bind(result).Attackers);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 2)]
    public void Bind_FewUsers_DefaultAttackersFitThem(int users, int attackers)
    {
        var command = new SimulateCommand();
        var options = command.Bind(command.Parse(["--users", users.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
        Assert.Equal(attackers, options.Attackers);
        Assert.Equal(attackers, PlannedAttack.CreatePlan(options).Count);
    }

    [Fact]
    public void CreatePlan_Attacks_DistinctAttackersEachAgainstAnotherUserSameForTheSameSeed()
    {
        var options = new SimulationOptions { Users = 30, Runs = 60, Seed = 4, Attackers = 12 };

        var attacks = PlannedAttack.CreatePlan(options);

        Assert.Equal(12, attacks.Count);
        Assert.Equal(12, attacks.Select(a => a.Attacker).Distinct().Count());
        Assert.All(attacks, a => Assert.NotEqual(a.Attacker, a.Victim));
        Assert.All(attacks, a => Assert.Equal(PlannedRun.ConversationId(a.Victim), a.ConversationId));
        Assert.Equal(attacks, PlannedAttack.CreatePlan(options));
        Assert.NotEqual(attacks, PlannedAttack.CreatePlan(options with { Seed = 5 }));
        Assert.Equal(PlannedRun.CreatePlan(options).SelectMany(p => p), PlannedRun.CreatePlan(options with { Attackers = 0 }).SelectMany(p => p));
    }

    [Theory]
    [InlineData(new[] { "--users", "0" }, "--users must be a whole number from 1 to 2000; got '0'.")]
    [InlineData(new[] { "--users", "many" }, "--users must be a whole number from 1 to 2000; got 'many'.")]
    [InlineData(new[] { "--runs", "-5" }, "--runs must be a whole number from 1 to 100000; got '-5'.")]
    [InlineData(new[] { "--failure-rate", "1.5" }, "--failure-rate must be a number from 0 to 1")]
    [InlineData(new[] { "--failure-rate", "ten" }, "--failure-rate must be a number from 0 to 1")]
    [InlineData(new[] { "--seed", "x" }, "--seed must be a whole number")]
    [InlineData(new[] { "--users" }, "Option --users needs a value")]
    [InlineData(new[] { "--users", "--runs", "5" }, "--users must be a whole number from 1 to 2000; got '--runs'.")]
    [InlineData(new[] { "--seed" }, "Option --seed needs a value: --seed <S>")]
    [InlineData(new[] { "--speed", "3" }, "Unknown option '--speed'. Options are --users, --runs, --failure-rate, --seed, --attackers, --transport, --nodes and --redis.")]
    [InlineData(new[] { "fast" }, "Unknown command or argument 'fast'")]
    [InlineData(new[] { "--users", "10", "--attackers", "11" }, "--attackers must be a number of users from 0 to 10 (--users) or a share of them from 0 to 1 with a decimal point (e.g. 0.05); got '11'.")]
    [InlineData(new[] { "--attackers", "1.5" }, "--attackers must be a number of users or a share of them from 0 to 1 with a decimal point (e.g. 0.05); got '1.5'.")]
    [InlineData(new[] { "--attackers", "some" }, "--attackers must be a number of users or a share")]
    [InlineData(new[] { "--users", "many", "--attackers", "1" }, "--users must be a whole number from 1 to 2000; got 'many'.")]
    [InlineData(new[] { "--users", "1", "--attackers", "1" }, "--attackers 1 needs at least 2 users: an attacker sends another user's conversation id.")]
    public async Task RunAsync_BadOption_ExitCode2WithMessageAndUsage(string[] args, string message)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await SimulateCommand.RunAsync(args, output, error, Ct);

        Assert.Equal(SimulateCommand.BadUsage, exitCode);
        Assert.Contains("simulate: " + message, error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Usage:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("dotnet run --project samples/ChatServer -- simulate [options]", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task RunAsync_Help_PrintsUsageExitCode0(string help)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(0, await SimulateCommand.RunAsync([help], output, error, Ct));

        var text = output.ToString();
        Assert.Contains("dotnet run --project samples/ChatServer -- simulate [options]", text, StringComparison.Ordinal);
        Assert.Contains("--users <N>", text, StringComparison.Ordinal);
        Assert.Contains("--failure-rate <R>", text, StringComparison.Ordinal);
        Assert.Contains("[default: 0.1]", text, StringComparison.Ordinal);
        Assert.Contains("2 for bad options", text, StringComparison.Ordinal);
        Assert.Empty(error.ToString());
    }

    [Fact]
    public void Bind_NoOptions_100Users1000RunsTenPercentSeed1()
    {
        var command = new SimulateCommand();
        var result = command.Parse([]);
        Assert.Empty(result.Errors);
        Assert.Equal(new SimulationOptions { Users = 100, Runs = 1000, FailureRate = 0.1, Seed = 1 }, command.Bind(result));
    }

    [Fact]
    public void Bind_EqualsFormAndUsersOnly_RunsDefaultToTenPerUser()
    {
        var command = new SimulateCommand();
        var options = command.Bind(command.Parse(["--users=7", "--seed=-3"]));
        Assert.Equal(7, options.Users);
        Assert.Equal(70, options.Runs);
        Assert.Equal(-3, options.Seed);
    }

    [Fact]
    public void Bind_EveryOption_TakesItsValue()
    {
        var command = new SimulateCommand();
        var result = command.Parse(["--seed", "-3", "--failure-rate", "0", "--runs", "5", "--attackers", "7", "--users", "2000"]);
        Assert.Empty(result.Errors);
        Assert.Equal(new SimulationOptions { Users = 2000, Runs = 5, FailureRate = 0, Seed = -3, Attackers = 7 }, command.Bind(result));
    }

    [Fact]
    public void Bind_ManyUsers_DefaultRunsCappedAtTheMaximum()
    {
        var command = new SimulateCommand();
        Assert.Equal(20_000, command.Bind(command.Parse(["--users", "2000"])).Runs);
        Assert.Equal(SimulationOptions.MaxRuns, SimulationOptions.DefaultRunsFor(20_000));
    }

    [Fact]
    public void CreatePlan_SameSeed_SamePlan()
    {
        var options = new SimulationOptions { Users = 5, Runs = 50, FailureRate = 0.5, Seed = 11 };
        Assert.Equal(PlannedRun.CreatePlan(options).SelectMany(p => p), PlannedRun.CreatePlan(options).SelectMany(p => p));
        Assert.NotEqual(PlannedRun.CreatePlan(options).SelectMany(p => p), PlannedRun.CreatePlan(options with { Seed = 12 }).SelectMany(p => p));
    }

    [Fact]
    public async Task RunAsync_PostgreSqlUnreachable_ExitCode1WithTheReasonAndNoStackTrace()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        var exitCode = await SimulateCommand.RunAsync(
            ["--users", "2", "--runs", "2"],
            output,
            error,
            b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Chat"] = "Host=127.0.0.1;Port=1;Username=chat;Password=chat;Database=chat;Timeout=3",
            }),
            Ct);

        Assert.Equal(SimulateCommand.Broken, exitCode);
        var text = error.ToString();
        Assert.StartsWith("simulate: the simulation could not run: NpgsqlException: Failed to connect to 127.0.0.1:1", text, StringComparison.Ordinal);
        Assert.Contains("Check ConnectionStrings:Chat", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text + output, StringComparison.Ordinal);
        Assert.Single(text.Trim().Split('\n'));
    }

    [Fact]
    public async Task RunAsync_BadSettingOnTheCommandLine_ExitCode1WithTheSetting()
    {
        using var error = new StringWriter();

        var exitCode = await SimulateCommand.RunAsync(["--users", "2", "--runs", "2", "--Isolation:Mode=Bogus"], TextWriter.Null, error, Ct);

        Assert.Equal(SimulateCommand.Broken, exitCode);
        Assert.Equal("simulate: the simulation could not run: Isolation:Mode is 'Bogus', which is not a mode. Use Off, Observe or Enforce.", error.ToString().Trim());
    }

    [Fact]
    public async Task RunAsync_BadSigningKey_ExitCode1WithTheSetting()
    {
        using var error = new StringWriter();

        var exitCode = await SimulateCommand.RunAsync(
            ["--users", "2", "--runs", "2"],
            TextWriter.Null,
            error,
            b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Chat:Auth:SigningKey"] = "c2hvcnQ=" }),
            Ct);

        Assert.Equal(SimulateCommand.Broken, exitCode);
        Assert.Contains("simulate: the simulation could not run: Chat:Auth:SigningKey has 5 bytes", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_OnPostgreSql_IsolationHeldAndHistoryStoredThere()
    {
        var (connectionString, schema) = await PostgresTestDatabase.CreateSchemaAsync(Ct);
        try
        {
            var report = await ChatSimulation.RunAsync(
                new SimulationOptions { Users = 10, Runs = 40, FailureRate = 0.3, Seed = 5 },
                TextWriter.Null,
                b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Chat"] = connectionString }),
                Ct);

            Assert.True(report.IsolationHeld, string.Join(Environment.NewLine, report.Failures));
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(Ct);
            await using var command = new NpgsqlCommand("SELECT count(DISTINCT owner_id) FROM isolation_agent_sessions", connection);
            Assert.Equal(10L, await command.ExecuteScalarAsync(Ct));
            Assert.Equal(report.AttackAttempts, report.AttackRefused);
            Assert.True(report.AttackAttempts > 0, "the default attack made no attempt");
        }
        finally
        {
            await PostgresTestDatabase.DropSchemaAsync(schema);
        }
    }

    private sealed class SharedAgentBug(IIsolationScopeFactory scopes) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await using (var first = scopes.CreateScope(new UserExecutionContext("probe-a")))
            {
                first.GetAgent<ProbeAgent>();
            }

            await using var second = scopes.CreateScope(new UserExecutionContext("probe-b"));
            try
            {
                second.GetAgent<ProbeAgent>();
            }
            catch (IsolationViolationException)
            {
                // Enforce: thrown and reported; the report must show it.
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
