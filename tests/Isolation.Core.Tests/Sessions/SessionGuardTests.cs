using Isolation.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Isolation.Tests.Sessions;

public sealed class SessionGuardTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Session_FromOwnerScope_ReturnsOpenSession()
    {
        await using var host = SessionTestHost.Sqlite();
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);

        using var command = guard.Session.CreateCommand();
        command.CommandText = "SELECT 41 + 1";
        Assert.Equal(42L, command.ExecuteScalar());
        Assert.Equal(0, scope.ViolationCount);
    }

    [Fact]
    public async Task Session_FromAnotherScopeInEnforce_ThrowsCrossScopeAccess()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await alice.OpenSessionAsync<SqliteConnection>(Ct);

        var exception = await Task.Run(
            async () =>
            {
                await using var bob = host.Factory.CreateScope(new UserExecutionContext("bob"));
                return Assert.Throws<IsolationViolationException>(() => guard.Session);
            },
            Ct);

        Assert.Equal(ViolationKind.CrossScopeAccess, exception.Kind);
        Assert.Contains("'alice'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("'bob'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("OpenSessionAsync", exception.Message, StringComparison.Ordinal);
        Assert.Equal("alice", exception.Violation!.Context!.UserId);
        Assert.Equal("bob", exception.Violation.OtherContext!.UserId);
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.CrossScopeAccess));
    }

    [Fact]
    public async Task Session_FromAnotherScopeInObserve_ReportsAndReturnsSession()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Observe);
        var reported = new List<IsolationViolation>();
        host.Monitor.ViolationDetected += (_, e) => reported.Add(e.Violation);
        await using var alice = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await alice.OpenSessionAsync<SqliteConnection>(Ct);

        var session = await Task.Run(
            async () =>
            {
                await using var bob = host.Factory.CreateScope(new UserExecutionContext("bob"));
                return guard.Session;
            },
            Ct);

        Assert.NotNull(session);
        var violation = Assert.Single(reported);
        Assert.Equal(ViolationKind.CrossScopeAccess, violation.Kind);
        Assert.Equal(typeof(SqliteConnection).FullName, violation.ResourceType);
    }

    [Fact]
    public async Task Session_OutsideAnyScope_ReportedAsCrossScopeAccessLikeAnAgent()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var scope = await host.CreateDetachedScopeAsync("alice");
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);

        Assert.Null(IsolationScope.Current);
        var exception = Assert.Throws<IsolationViolationException>(() => guard.Session);

        Assert.Equal(ViolationKind.CrossScopeAccess, exception.Kind);
        Assert.Contains("outside any isolation scope", exception.Message, StringComparison.Ordinal);
        Assert.Equal(1, scope.ViolationCount);
    }

    [Fact]
    public async Task Session_AfterDispose_ThrowsUseAfterDispose()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        await guard.DisposeAsync();

        var exception = Assert.Throws<IsolationViolationException>(() => guard.Session);

        Assert.Equal(ViolationKind.UseAfterDispose, exception.Kind);
        Assert.True(guard.IsDisposed);
        Assert.Contains("after it was disposed", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_AfterScopeEnded_ReportsUseAfterDispose()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Observe);
        SessionGuard<SqliteConnection> kept;
        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            kept = await scope.OpenSessionAsync<SqliteConnection>(Ct);
            await kept.DisposeAsync();
        }

        _ = kept.Session;

        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.UseAfterDispose));
    }

    [Fact]
    public async Task Enter_WhileAnotherFlowIsInside_ThrowsConcurrentUse()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);

        IsolationViolationException exception;
        using (guard.Enter())
        {
            exception = await Task.Run(() => Assert.Throws<IsolationViolationException>(() => guard.Enter()), Ct);
        }

        Assert.Equal(ViolationKind.ConcurrentUse, exception.Kind);
        Assert.Contains("while another operation on it was still running", exception.Message, StringComparison.Ordinal);

        // Once the first operation ended, the session can be entered again.
        using (guard.Enter())
        {
            Assert.NotNull(guard.Session);
        }

        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.ConcurrentUse));
    }

    [Fact]
    public async Task Enter_ConcurrentInObserve_ProceedsAndFirstExitFreesSession()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Observe);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);

        using (guard.Enter())
        {
            await Task.Run(
                () =>
                {
                    using var second = guard.Enter();
                },
                Ct);
        }

        using (guard.Enter())
        {
        }

        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.ConcurrentUse));
    }

    [Fact]
    public async Task Enter_InModeOff_ChecksNothing()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Off);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);

        using (guard.Enter())
        {
            using var nested = guard.Enter();
        }

        await guard.DisposeAsync();
        _ = guard.Session;

        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task DisposeAsync_CalledTwice_ClosesSessionAndReturnsSlotOnce()
    {
        await using var host = SessionTestHost.Sqlite(configure: o => o.MaxSessions = 1);
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        var connection = guard.Session;

        await guard.DisposeAsync();
        await guard.DisposeAsync();

        Assert.Equal(System.Data.ConnectionState.Closed, connection.State);
        Assert.Equal(0, host.Pool<SqliteConnection>().Held);

        // The single slot is free again, exactly once.
        await using var again = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        Assert.Equal(1, host.Pool<SqliteConnection>().Held);
    }

    [Fact]
    public async Task DisposeAsync_OfScope_ReportsUnreleasedSessionAsLeakAndReturnsIt()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce, leakDetection: LeakDetectionLevel.Full);
        var leaks = new List<IsolationViolation>();
        host.Monitor.LeakDetected += (_, e) => leaks.Add(e.Violation);
        SessionGuard<SqliteConnection> leaked;
        SqliteConnection connection;

        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            leaked = await scope.OpenSessionAsync<SqliteConnection>(Ct);
            connection = leaked.Session;
            Assert.Equal(1, host.Pool<SqliteConnection>().Held);
        }

        var leak = Assert.Single(leaks);
        Assert.Equal(ViolationKind.SessionLeak, leak.Kind);
        Assert.Equal("alice", leak.Context!.UserId);
        Assert.Contains("still open when the scope ended", leak.Message, StringComparison.Ordinal);
        Assert.Null(leak.CreationStackTrace);
        Assert.True(leaked.IsDisposed);
        Assert.Equal(System.Data.ConnectionState.Closed, connection.State);
        Assert.Equal(0, host.Pool<SqliteConnection>().Held);
    }

    [Fact]
    public async Task DisposeAsync_OfScopeInParanoid_LeakReportCarriesCreationStackTrace()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Observe, leakDetection: LeakDetectionLevel.Paranoid);
        IsolationViolation? leak = null;
        host.Monitor.LeakDetected += (_, e) => leak = e.Violation;

        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            await OpenAndForgetAsync(scope);
        }

        Assert.NotNull(leak);
        Assert.Equal(ViolationKind.SessionLeak, leak.Kind);
        Assert.NotNull(leak.CreationStackTrace);
        Assert.Contains(nameof(OpenAndForgetAsync), leak.CreationStackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_OfScope_DisposedGuardIsNoLeak()
    {
        await using var host = SessionTestHost.Sqlite(IsolationMode.Enforce);
        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);
        }

        Assert.Equal(0, host.Monitor.TotalViolations);
        Assert.Equal(1, host.Monitor.GetScore());
    }

    [Fact]
    public async Task ToString_NamesSessionTypeAndUser()
    {
        await using var host = SessionTestHost.Sqlite();
        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        await using var guard = await scope.OpenSessionAsync<SqliteConnection>(Ct);

        Assert.StartsWith("SessionGuard of Microsoft.Data.Sqlite.SqliteConnection for user 'alice'", guard.ToString(), StringComparison.Ordinal);
    }

    private static async Task OpenAndForgetAsync(IsolationScope scope) => await scope.OpenSessionAsync<SqliteConnection>(Ct);
}
