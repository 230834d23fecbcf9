using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using ChatServer.Tests.Infrastructure;
using Isolation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatServer.Tests.Realtime;

/// <summary>The SignalR transport (<c>/hub/chat</c>) on a real Kestrel server with the real SignalR client.</summary>
public sealed class ChatHubTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(null)]
    [InlineData("forged.token")]
    public async Task Connect_NoOrForgedToken_401(string? token)
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var path = "/hub/chat/negotiate?negotiateVersion=1" + (token is null ? string.Empty : "&access_token=" + Uri.EscapeDataString(token));

        using var response = await server.Http.PostAsync(path, content: null, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Connect_BearerHeader_Accepted()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hub/chat/negotiate?negotiateVersion=1");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await server.LoginAsync("alice", Ct));

        using var response = await server.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Chat_TwoUsers_EventsReachOnlyTheSendersConnectionsInOrderWithOneTerminal()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice1 = await HubClient.ConnectAsync(server, "alice");
        await using var alice2 = await HubClient.ConnectAsync(server, "alice");
        await using var bob = await HubClient.ConnectAsync(server, "bob");

        var runId = await alice1.Connection.InvokeAsync<string>("Chat", "What is the weather in Lisbon?", "r-1", null, Ct);

        Assert.Equal("r-1", runId);
        foreach (var tab in new[] { alice1, alice2 })
        {
            var run = await tab.RunAsync("r-1");
            Assert.All(run, e => Assert.Equal("alice", e.GetProperty("userId").GetString()));
            Assert.Equal(Enumerable.Range(1, run.Count).Select(i => (long)i), run.Select(e => e.GetProperty("sequence").GetInt64()));
            Assert.Equal(AgentEventTypes.AgentStarted, Type(run[0]));
            Assert.Contains(run, e => Type(e) == "answer");
            Assert.Equal(AgentEventTypes.AgentCompleted, Type(run[^1]));
            Assert.Single(run, e => AgentEventTypes.IsTerminal(Type(e)));
        }

        Assert.All(bob.Events, e => Assert.Equal("bob", e.GetProperty("userId").GetString())); // only bob's own ready
        Assert.DoesNotContain(bob.Events, e => e.GetProperty("runId").ValueKind == JsonValueKind.String && e.GetProperty("runId").GetString() == "r-1");
    }

    [Fact]
    public async Task Cancel_AnotherUsersRun_RefusedAsUnknownRunAndThatRunCompletes()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await HubClient.ConnectAsync(server, "alice");
        await using var bob = await HubClient.ConnectAsync(server, "bob");
        await alice.Connection.InvokeAsync<string>("Chat", "How do refunds work? #slow", "r-1", null, Ct);

        var refused = await Assert.ThrowsAsync<HubException>(() => bob.Connection.InvokeAsync("Cancel", "r-1", Ct));

        Assert.Contains("unknown_run", refused.Message, StringComparison.Ordinal);
        Assert.Equal(AgentEventTypes.AgentCompleted, Type((await alice.RunAsync("r-1"))[^1]));
    }

    [Fact]
    public async Task Cancel_OwnRun_EndsItCancelled()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await HubClient.ConnectAsync(server, "alice");
        await alice.Connection.InvokeAsync<string>("Chat", "Tell me about isolation. #hang", "r-1", null, Ct);
        await alice.StartedAsync("r-1");

        await alice.Connection.InvokeAsync("Cancel", "r-1", Ct);

        var terminal = (await alice.RunAsync("r-1"))[^1];
        Assert.True(AgentEventTypes.IsTerminal(Type(terminal)));
        Assert.Equal("cancelled", terminal.GetProperty("payload").GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("   ", "r-1", "invalid_text")]
    [InlineData("hello", "bad id!", "invalid_id")]
    public async Task Chat_InvalidMessage_HubExceptionWithTheCode(string text, string runId, string code)
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await HubClient.ConnectAsync(server, "alice");

        var refused = await Assert.ThrowsAsync<HubException>(() => alice.Connection.InvokeAsync<string>("Chat", text, runId, null, Ct));

        Assert.Contains(code, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_SameRunIdTwice_DuplicateRunRefused()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var alice = await HubClient.ConnectAsync(server, "alice");
        await alice.Connection.InvokeAsync<string>("Chat", "How do refunds work? #slow", "r-1", null, Ct);

        var refused = await Assert.ThrowsAsync<HubException>(() => alice.Connection.InvokeAsync<string>("Chat", "again", "r-1", null, Ct));

        Assert.Contains("duplicate_run", refused.Message, StringComparison.Ordinal);
        await alice.RunAsync("r-1");
    }

    [Fact]
    public async Task Disconnect_RunOfThatConnection_CancelledAndOtherTabSeesTheEnd()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var main = await HubClient.ConnectAsync(server, "alice");
        await using var watch = await HubClient.ConnectAsync(server, "alice");
        await main.Connection.InvokeAsync<string>("Chat", "Tell me about isolation. #hang", "r-1", null, Ct);
        await watch.StartedAsync("r-1");

        await main.DisposeAsync();

        var terminal = (await watch.RunAsync("r-1"))[^1];
        Assert.Equal("cancelled", terminal.GetProperty("payload").GetProperty("status").GetString());
        await Poll.UntilAsync(() => server.Services.GetRequiredService<IConnectionRegistry>().GetConnectionCount("alice") == 1, "the closed connection left the registry");
    }

    private static string Type(JsonElement e) => e.GetProperty("type").GetString()!;

    /// <summary>A SignalR client of one user, recording every event it receives on <c>isolation</c>.</summary>
    private sealed class HubClient : IAsyncDisposable
    {
        private readonly ConcurrentQueue<JsonElement> _events = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _ended = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();

        private HubClient(HubConnection connection)
        {
            Connection = connection;
            connection.On<JsonElement>("isolation", e =>
            {
                _events.Enqueue(e);
                if (e.GetProperty("runId").ValueKind == JsonValueKind.String)
                {
                    var runId = e.GetProperty("runId").GetString()!;
                    Gate(_started, runId).TrySetResult();
                    if (AgentEventTypes.IsTerminal(Type(e)))
                    {
                        Gate(_ended, runId).TrySetResult();
                    }
                }
            });
        }

        public HubConnection Connection { get; }

        public IReadOnlyList<JsonElement> Events => _events.ToArray();

        public static async Task<HubClient> ConnectAsync(TestChatServer server, string userId)
        {
            var token = await server.LoginAsync(userId, Ct);
            var connection = new HubConnectionBuilder()
                .WithUrl(new Uri(server.Address, "/hub/chat?access_token=" + Uri.EscapeDataString(token)), o => o.Transports = HttpTransportType.WebSockets)
                .Build();
            var client = new HubClient(connection);
            await connection.StartAsync(Ct);
            await Poll.UntilAsync(() => client.Events.Any(e => Type(e) == "ready"), "the server said the connection is registered");
            return client;
        }

        public async Task StartedAsync(string runId) => await Gate(_started, runId).Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);

        public async Task<IReadOnlyList<JsonElement>> RunAsync(string runId)
        {
            await Gate(_ended, runId).Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
            return Events.Where(e => e.GetProperty("runId").ValueKind == JsonValueKind.String && e.GetProperty("runId").GetString() == runId).ToList();
        }

        public ValueTask DisposeAsync() => Connection.DisposeAsync();

        private static TaskCompletionSource Gate(ConcurrentDictionary<string, TaskCompletionSource> gates, string runId) =>
            gates.GetOrAdd(runId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
