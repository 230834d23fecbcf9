using System.Net;
using System.Text.Json;
using ChatServer.Tests.Infrastructure;
using Isolation;

namespace ChatServer.Tests.Dashboard;

/// <summary><c>GET /api/isolation</c>: what the dashboard polls, from <see cref="IsolationMonitor"/> and the server's own meter.</summary>
public sealed class IsolationApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Get_AfterRunsOfEachOutcome_CountsRunsByStatusAndCreations()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await server.ConnectAsync("alice", Ct);
        await alice.SendAsync(new { type = "chat", runId = "ok", text = "What time is it?" }, Ct);
        await alice.RunEventsAsync("ok", Ct);
        await alice.SendAsync(new { type = "chat", runId = "bad", text = "What time is it? #fail" }, Ct);
        await alice.RunEventsAsync("bad", Ct);

        var snapshot = await SnapshotAsync(server);

        Assert.Equal(1, snapshot.GetProperty("runs").GetProperty("completed").GetInt64());
        Assert.Equal(1, snapshot.GetProperty("runs").GetProperty("failed").GetInt64());
        // Two runs and the server's warm-up, whose creation (JIT) is left out of the percentiles.
        Assert.Equal(3, snapshot.GetProperty("agentsCreated").GetInt64());
        Assert.True(snapshot.GetProperty("agentCreationP95Ms").GetDouble() > 0);
        Assert.Equal(1.0, snapshot.GetProperty("score").GetDouble());
        Assert.Equal(1, snapshot.GetProperty("connections").GetInt32());
        Assert.Equal(0, snapshot.GetProperty("violations").GetProperty("singleton_reuse").GetInt64());
        Assert.Equal(0, snapshot.GetProperty("leaks").GetProperty("session_leak").GetInt64());
        Assert.Equal(100, snapshot.GetProperty("enforcePercent").GetInt32());
    }

    [Fact]
    public async Task Get_TwoServersInOneProcess_EachCountsOnlyItsOwnMeter()
    {
        await using var busy = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var idle = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await busy.ConnectAsync("alice", Ct);
        await alice.SendAsync(new { type = "chat", runId = "r", text = "What time is it?" }, Ct);
        await alice.RunEventsAsync("r", Ct);

        Assert.Equal(1, (await SnapshotAsync(busy)).GetProperty("runs").GetProperty("completed").GetInt64());
        Assert.Equal(0, (await SnapshotAsync(idle)).GetProperty("runs").GetProperty("completed").GetInt64());
        var idleSnapshot = await SnapshotAsync(idle);
        Assert.Equal(1, idleSnapshot.GetProperty("agentsCreated").GetInt64());
        Assert.Equal(JsonValueKind.Null, idleSnapshot.GetProperty("agentCreationP50Ms").ValueKind);
        Assert.Equal(JsonValueKind.Null, idleSnapshot.GetProperty("agentCreationP95Ms").ValueKind);
    }

    [Fact]
    public async Task ProbeEndpoint_Enabled_ProvokesARealSingletonReuseViolation()
    {
        await using var server = await TestChatServer.StartAsync(new Dictionary<string, string?> { ["Chat:ViolationProbe"] = "true" }, Ct);

        using var response = await server.Http.PostAsync(new Uri("/api/diagnostics/violation", UriKind.Relative), null, Ct);
        response.EnsureSuccessStatusCode();

        Assert.Equal(1, server.Monitor.GetViolationCount(ViolationKind.SingletonReuse));
        var snapshot = await SnapshotAsync(server);
        Assert.Equal(1, snapshot.GetProperty("violations").GetProperty("singleton_reuse").GetInt64());
        Assert.True(snapshot.GetProperty("score").GetDouble() < 1);
        Assert.Equal("singleton_reuse", snapshot.GetProperty("recentViolations")[0].GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData("100", "0", "Enforce")]
    [InlineData("0", "100", "Observe")]
    public async Task ProbeEndpoint_ModeFromTheRollout_ReportedInBothEnforceAndObserve(string enforce, string observe, string mode)
    {
        await using var server = await TestChatServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["Chat:ViolationProbe"] = "true",
                ["Isolation:Rollout:EnforcePercent"] = enforce,
                ["Isolation:Rollout:ObservePercent"] = observe,
            },
            Ct);

        var body = await (await server.Http.PostAsync(new Uri("/api/diagnostics/violation", UriKind.Relative), null, Ct)).Content.ReadAsStringAsync(Ct);

        using var result = JsonDocument.Parse(body);
        Assert.Equal(mode, result.RootElement.GetProperty("mode").GetString());
        Assert.Equal("singleton_reuse", result.RootElement.GetProperty("violation").GetString());
        Assert.Equal(1, server.Monitor.GetViolationCount(ViolationKind.SingletonReuse));
    }

    [Fact]
    public async Task ProbeEndpoint_RolloutOff_NothingChecked()
    {
        await using var server = await TestChatServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["Chat:ViolationProbe"] = "true",
                ["Isolation:Rollout:EnforcePercent"] = "0",
                ["Isolation:Rollout:ObservePercent"] = "0",
            },
            Ct);

        using var response = await server.Http.PostAsync(new Uri("/api/diagnostics/violation", UriKind.Relative), null, Ct);
        response.EnsureSuccessStatusCode();

        Assert.Contains("\"violation\":\"none\"", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(0, server.Monitor.TotalViolations);
    }

    [Fact]
    public async Task ProbeEndpoint_NotConfigured_NotMapped()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        using var response = await server.Http.PostAsync(new Uri("/api/diagnostics/violation", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, server.Monitor.TotalViolations);
    }

    [Theory]
    [InlineData("/", "Isolation chat")]
    [InlineData("/dashboard", "Isolation dashboard")]
    [InlineData("/assets/dashboard.js", "/api/isolation")]
    [InlineData("/assets/chat.js", "access_token")]
    public async Task Pages_ServedFromTheAssembly(string path, string expected)
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var body = await server.Http.GetStringAsync(new Uri(path, UriKind.Relative), Ct);
        Assert.Contains(expected, body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/health/ready")]
    [InlineData("/health/isolation")]
    public async Task Health_NoViolations_Healthy(string path)
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        Assert.Equal("Healthy", await server.Http.GetStringAsync(new Uri(path, UriKind.Relative), Ct));
    }

    [Fact]
    public async Task Health_AfterAViolation_ReadinessStaysHealthy_IsolationEndpointUnhealthy()
    {
        await using var server = await TestChatServer.StartAsync(new Dictionary<string, string?> { ["Chat:ViolationProbe"] = "true" }, Ct);
        using (var probe = await server.Http.PostAsync(new Uri("/api/diagnostics/violation", UriKind.Relative), null, Ct))
        {
            Assert.True(probe.IsSuccessStatusCode, $"the probe answered {(int)probe.StatusCode}");
        }

        Assert.True(server.Monitor.TotalViolations > 0);

        // One user's violation must not take the node out of a load balancer's rotation...
        using var ready = await server.Http.GetAsync(new Uri("/health/ready", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync(Ct));

        // ...while the isolation check's own endpoint reports it (Unhealthy, the default failure status).
        using var isolation = await server.Http.GetAsync(new Uri("/health/isolation", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, isolation.StatusCode);
        Assert.Equal("Unhealthy", await isolation.Content.ReadAsStringAsync(Ct));
    }

    private static async Task<JsonElement> SnapshotAsync(TestChatServer server)
    {
        var json = await server.Http.GetStringAsync(new Uri("/api/isolation", UriKind.Relative), Ct);
        return JsonDocument.Parse(json).RootElement.Clone();
    }
}
