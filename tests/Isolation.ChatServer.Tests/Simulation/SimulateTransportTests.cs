using ChatServer.Simulation;
using ChatServer.Tests.Infrastructure;

namespace ChatServer.Tests.Simulation;

/// <summary><c>simulate --transport signalr</c> and <c>simulate --nodes 3</c> end to end: real servers, real clients, a real Redis.</summary>
public sealed class SimulateTransportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_SignalRTransport_IsolationHeldExitCode0()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await SimulateCommand.RunAsync(["--users", "10", "--runs", "60", "--failure-rate", "0.4", "--seed", "3", "--transport", "signalr"], output, error, Ct);

        var text = output.ToString();
        Assert.True(exitCode == SimulateCommand.Held, text + error);
        Assert.Contains("10 users connected (20 SignalR connections)", text, StringComparison.Ordinal);
        Assert.Contains("exactly one terminal event per run       60/60", text, StringComparison.Ordinal);
        Assert.Contains("cross-user events seen by clients        0", text, StringComparison.Ordinal);
        Assert.Contains("refused 6  foreign history returned 0", text, StringComparison.Ordinal);
        Assert.Contains("Isolation held.", text, StringComparison.Ordinal);
        Assert.Empty(error.ToString());
    }

    [Fact]
    public async Task RunAsync_SignalREveryFailureKind_EachEndsItsOwnRunAndNothingElse()
    {
        var options = new SimulationOptions { Users = 12, Runs = 96, FailureRate = 0.6, Seed = 3, Transport = SimulationTransport.SignalR };

        var report = await ChatSimulation.RunAsync(options, TextWriter.Null, configure: null, Ct);

        Assert.True(report.IsolationHeld, string.Join(Environment.NewLine, report.Failures));
        Assert.Equal(0, report.CrossUserEvents);
        Assert.Equal(96, report.RunsWithOneTerminal);
        AssertAttackRefused(report);
        foreach (var failure in Enum.GetValues<InjectedFailure>())
        {
            Assert.True(report.Injected.GetValueOrDefault(failure) > 0, $"the plan has no {failure} run; pick another seed");
        }

        InjectedOutcomes.AssertFailedOrOverloaded(report, InjectedFailure.Exception);
        Assert.Equal(["timed_out"], report.Outcomes[InjectedFailure.Hang].Keys);
        Assert.Equal(["completed"], report.Outcomes[InjectedFailure.SlowClient].Keys);
        Assert.All(report.Outcomes[InjectedFailure.VanishingClient].Keys, status => Assert.Contains(status, new[] { "cancelled", "completed" }));
    }

    [Theory]
    [InlineData(SimulationTransport.WebSocket)]
    [InlineData(SimulationTransport.SignalR)]
    public async Task RunAsync_ThreeNodesOnRedis_NoCrossUserEventAndEventsCrossNodes(SimulationTransport transport)
    {
        var redis = RedisTestServer.RequireConfiguration();
        var options = new SimulationOptions { Users = 9, Runs = 54, FailureRate = 0.3, Seed = 4, Transport = transport, Nodes = 3, Redis = redis };

        var report = await ChatSimulation.RunAsync(options, TextWriter.Null, configure: null, Ct);

        Assert.True(report.IsolationHeld, string.Join(Environment.NewLine, report.Failures));
        Assert.Equal(0, report.CrossUserEvents);
        Assert.Equal(54, report.RunsWithOneTerminal);
        AssertAttackRefused(report);
        Assert.True(report.CrossNodeEvents > 54, $"only {report.CrossNodeEvents} events reached a tab on another node than their run's");
        Assert.True(report.RedisMessagesReceived > 0, "no node received a message through Redis");
    }

    [Fact]
    public async Task RunAsync_ThreeNodesCommandOnRedis_PrintsCrossNodeCounts()
    {
        var redis = RedisTestServer.RequireConfiguration();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await SimulateCommand.RunAsync(["--users", "6", "--runs", "18", "--failure-rate", "0", "--nodes", "3", "--redis", redis], output, error, Ct);

        var text = output.ToString();
        Assert.True(exitCode == SimulateCommand.Held, text + error);
        Assert.Contains("3 nodes on http://127.0.0.1:", text, StringComparison.Ordinal);
        Assert.Contains("  nodes                                    3 sharing Redis", text, StringComparison.Ordinal);
        Assert.Matches(@"run events on tabs \(clients\) +\d+ on the run's node, [1-9]\d* on another node \(through Redis\)", text);
        Assert.Matches(@"Redis messages \(servers\) +sent [1-9]\d*, received and delivered [1-9]\d*, refused 0, dropped 0", text);
        Assert.Contains("cross-user events seen by clients        0", text, StringComparison.Ordinal);
        Assert.Contains("Isolation held.", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NodesWithoutRedis_ExitCode1SaysHowToGiveIt()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        ChatSimulation.ReadEnvironment.Value = _ => null; // as if ISOLATION_TEST_REDIS were unset, for this test's flow only

        var exitCode = await SimulateCommand.RunAsync(["--nodes", "3"], output, error, Ct);

        Assert.Equal(SimulateCommand.Broken, exitCode);
        Assert.Contains("simulate: --nodes 3 runs 3 server nodes that deliver each other's events through Redis, and no Redis was given.", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("--redis <StackExchange.Redis configuration>", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("ISOLATION_TEST_REDIS", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }

    [Fact]
    public async Task RunAsync_NodesWithoutRedisDirectly_ThrowsInvalidOperation()
    {
        var options = new SimulationOptions { Nodes = 2, Redis = string.Empty };

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => ChatSimulation.RunAsync(options, TextWriter.Null, configure: null, Ct));

        Assert.Contains("--nodes 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_TransportNodesRedis_Read()
    {
        var command = new SimulateCommand();

        var options = command.Bind(command.Parse(["--transport", "SignalR", "--nodes=3", "--redis", "127.0.0.1:6379,password=x"]));

        Assert.Equal(SimulationTransport.SignalR, options.Transport);
        Assert.Equal(3, options.Nodes);
        Assert.Equal("127.0.0.1:6379,password=x", options.Redis);
    }

    [Fact]
    public void Bind_Defaults_WebSocketOneNodeNoRedis()
    {
        var command = new SimulateCommand();

        var options = command.Bind(command.Parse([]));

        Assert.Equal(SimulationTransport.WebSocket, options.Transport);
        Assert.Equal(1, options.Nodes);
        Assert.Null(options.Redis);
    }

    [Theory]
    [InlineData(new[] { "--transport", "grpc" }, "--transport must be websocket or signalr; got 'grpc'.")]
    [InlineData(new[] { "--nodes", "0" }, "--nodes must be a whole number from 1 to 5; got '0'.")]
    [InlineData(new[] { "--nodes", "6" }, "--nodes must be a whole number from 1 to 5; got '6'.")]
    [InlineData(new[] { "--redis", " " }, "--redis must be a StackExchange.Redis configuration string; got ' '.")]
    public async Task RunAsync_BadTransportOrNodes_ExitCode2WithMessage(string[] args, string message)
    {
        using var error = new StringWriter();

        var exitCode = await SimulateCommand.RunAsync(args, TextWriter.Null, error, Ct);

        Assert.Equal(SimulateCommand.BadUsage, exitCode);
        Assert.Contains("simulate: " + message, error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The default attackers ran over this transport too: every attempt refused, nothing foreign returned.</summary>
    private static void AssertAttackRefused(SimulationReport report)
    {
        Assert.True(report.AttackAttempts > 0, "no attack was made");
        Assert.Equal(report.AttackAttempts, report.AttackRefused);
        Assert.Equal(0, report.ForeignHistoryReturned);
    }
}
