using System.Runtime.CompilerServices;
using Isolation.Tests.Infrastructure;
using Isolation.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Issues;

/// <summary>
/// Issue 12 item 4: Paranoid traces show the caller, and leak reports carry the last 4 accesses of the leaked agent or
/// session (ownership checks of an agent, enters of a session guard).
/// </summary>
public sealed class LeakReportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ParanoidSessionLeak_FactoryYieldsFirst_TraceShowsTheCallerOfOpenSessionAsync()
    {
        await using var host = SessionTestHost.Create<SqliteConnection>(
            async (_, _) =>
            {
                // The factory's first await: from here on only thread-pool frames are on the stack.
                await Task.Yield();
                var connection = new SqliteConnection("Data Source=:memory:");
                connection.Open();
                return connection;
            },
            IsolationMode.Observe,
            leakDetection: LeakDetectionLevel.Paranoid);
        IsolationViolation? leak = null;
        host.Monitor.LeakDetected += (_, e) => leak = e.Violation;

        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            await OpenWithoutDisposingAsync(scope);
        }

        Assert.NotNull(leak);
        Assert.Equal(ViolationKind.SessionLeak, leak.Kind);
        Assert.Contains(nameof(OpenWithoutDisposingAsync), leak.CreationStackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionLeak_ReportNamesTheMethodsThatEnteredTheGuard_NewestFirst()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Observe, leakDetection: LeakDetectionLevel.Full);
        IsolationViolation? leak = null;
        host.Monitor.LeakDetected += (_, e) => leak = e.Violation;

        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
            InsertNote(guard);
            ReadNotes(guard);
        }

        Assert.NotNull(leak);
        Assert.Contains("Recent accesses (the last 2 of 2, newest first):", leak.Message, StringComparison.Ordinal);
        var read = leak.Message.IndexOf("#2: " + nameof(ReadNotes) + " in the scope of user 'alice'", StringComparison.Ordinal);
        var insert = leak.Message.IndexOf("#1: " + nameof(InsertNote) + " in the scope of user 'alice'", StringComparison.Ordinal);
        Assert.True(read >= 0 && insert > read, leak.Message);
        Assert.Null(leak.CreationStackTrace);
    }

    [Fact]
    public async Task SessionLeak_GuardedCommands_AreAccessesToo_AndTheLogCarriesThem()
    {
        await using var host = SessionTestHost.Sqlite(
            IsolationMode.Observe,
            leakDetection: LeakDetectionLevel.Full,
            services: s => s.AddFakeLogging());
        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
            using var command = guard.AsDbConnection().CreateCommand();
            command.CommandText = "SELECT 1";
            Assert.Equal(1L, command.ExecuteScalar());
        }

        var record = Assert.Single(host.Provider.GetFakeLogCollector().GetSnapshot(), r => r.Message.Contains("session_leak", StringComparison.Ordinal));
        Assert.Contains("#1: ExecuteScalar in the scope of user 'alice'", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionGuard_EnteredSixTimes_KeepsTheLastFour()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Observe, leakDetection: LeakDetectionLevel.Full);
        IsolationViolation? leak = null;
        host.Monitor.LeakDetected += (_, e) => leak = e.Violation;
        SessionGuard<SqliteConnection> guard;
        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
            for (var i = 0; i < 6; i++)
            {
                InsertNote(guard);
            }
        }

        Assert.Equal(6, guard.Accesses!.Count);
        Assert.Equal(4, guard.Accesses.Snapshot().Count);
        Assert.NotNull(leak);
        Assert.Contains("the last 4 of 6", leak.Message, StringComparison.Ordinal);
        foreach (var kept in new[] { 6, 5, 4, 3 })
        {
            Assert.Contains($"#{kept}: {nameof(InsertNote)}", leak.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("#2:", leak.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("#1:", leak.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentLeak_ReportNamesTheMethodsThatCheckedOwnership_IncludingUsesAfterTheScope()
    {
        await using var host = CreateAgentHost(LeakDetectionLevel.Full);
        var leaks = new List<IsolationViolation>();
        host.Monitor.LeakDetected += (_, e) => leaks.Add(e.Violation);
        var kept = UseAndKeep(host);
        kept.Add("after its scope ended"); // use_after_dispose, recorded outside any scope

        var leak = FindAgentLeak(host, leaks);

        Assert.Contains("Recent accesses (the last 3 of 3, newest first):", leak.Message, StringComparison.Ordinal);
        Assert.Contains("#3: Add outside any isolation scope", leak.Message, StringComparison.Ordinal);
        Assert.Contains("#2: Notes in the scope of user 'alice'", leak.Message, StringComparison.Ordinal);
        Assert.Contains("#1: Add in the scope of user 'alice'", leak.Message, StringComparison.Ordinal);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Message.Contains("agent_leak", StringComparison.Ordinal) && r.Message.Contains("#2: Notes", StringComparison.Ordinal));
        GC.KeepAlive(kept);
    }

    [Fact]
    public async Task Agent_UsedFiveTimes_KeepsTheLastFour()
    {
        await using var host = CreateAgentHost(LeakDetectionLevel.Full);
        await using var scope = host.CreateScope("alice");
        var agent = scope.GetAgent<NotesAgent>();
        for (var i = 0; i < 5; i++)
        {
            agent.Add("note " + i);
        }

        Assert.Equal(5, agent.Accesses!.Count);
        var records = agent.Accesses.Snapshot();
        Assert.Equal(4, records.Count);
        Assert.All(records, r => Assert.Equal(nameof(NotesAgent.Add), r.Member));
        Assert.All(records, r => Assert.Null(r.StackTrace));
    }

    [Fact]
    public async Task ParanoidAgent_EachAccessCarriesItsStackTrace()
    {
        await using var host = CreateAgentHost(LeakDetectionLevel.Paranoid);
        await using var scope = host.CreateScope("alice");
        var agent = scope.GetAgent<NotesAgent>();
        AddFromHelper(agent);

        var record = Assert.Single(agent.Accesses!.Snapshot());
        Assert.Contains(nameof(AddFromHelper), record.StackTrace, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(LeakDetectionLevel.Disabled)]
    [InlineData(LeakDetectionLevel.Sampled)]
    public async Task UntrackedScope_AgentsAndSessionsKeepNoAccessRecords(LeakDetectionLevel level)
    {
        await using var host = SessionTestHost.Sqlite(
            IsolationMode.Observe,
            leakDetection: level,
            services: s => s.AddScoped<ScopedDependency>().AddIsolatedAgent<NotesAgent>());
        for (var i = 0; i < 3; i++)
        {
            await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
            if (scope.IsTracked)
            {
                continue; // Sampled tracks 1 in 128: those do keep records
            }

            var agent = scope.GetAgent<NotesAgent>();
            agent.Add("x");
            await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
            InsertNote(guard);

            Assert.Null(agent.Accesses);
            Assert.Null(guard.Accesses);
        }
    }

    private static TestHost CreateAgentHost(LeakDetectionLevel level) =>
        TestHost.Create(
            s => s.AddScoped<ScopedDependency>().AddIsolatedAgent<NotesAgent>(),
            o =>
            {
                o.Mode = IsolationMode.Observe;
                o.LeakDetection = level;
                o.RetainedAgentGracePeriod = TimeSpan.FromSeconds(30);
            });

    private static IsolationViolation FindAgentLeak(TestHost host, List<IsolationViolation> leaks)
    {
        host.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(0, host.Monitor.CheckForLeaks());
        GC.Collect();
        Assert.Equal(1, host.Monitor.CheckForLeaks());
        return Assert.Single(leaks, l => l.Kind == ViolationKind.AgentLeak);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static NotesAgent UseAndKeep(TestHost host)
    {
        using var scope = host.CreateScope("alice");
        var agent = scope.GetAgent<NotesAgent>();
        agent.Add("first");
        _ = agent.Notes;
        return agent;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddFromHelper(NotesAgent agent) => agent.Add("from the helper");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task OpenWithoutDisposingAsync(IsolationScope scope) =>
        await scope.OpenSessionAsync<SqliteConnection>(Ct);

    private static void InsertNote(SessionGuard<SqliteConnection> guard)
    {
        using (guard.Enter())
        {
        }
    }

    private static void ReadNotes(SessionGuard<SqliteConnection> guard)
    {
        using (guard.Enter())
        {
        }
    }
}
