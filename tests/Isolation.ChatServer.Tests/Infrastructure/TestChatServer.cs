using System.Net.Http.Json;
using ChatServer.Realtime;
using Isolation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatServer.Tests.Infrastructure;

/// <summary>The real chat server on 127.0.0.1 (a port chosen by the OS), with its SQLite file in a temporary folder.</summary>
internal sealed class TestChatServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;
    private readonly HttpClient _http;

    private TestChatServer(WebApplication app, string dataDirectory, Uri address)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        Address = address;
        _http = new HttpClient { BaseAddress = address };
    }

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public HttpClient Http => _http;

    public IsolationMonitor Monitor => Services.GetRequiredService<IsolationMonitor>();

    public ActiveRuns Runs => Services.GetRequiredService<ActiveRuns>();

    public static Task<TestChatServer> StartAsync(IDictionary<string, string?>? settings = null, CancellationToken cancellationToken = default) =>
        StartAsync(settings, configure: null, cancellationToken);

    /// <summary>Starts a server; <paramref name="configure"/> runs last on the builder (e.g. to collect its logs).</summary>
    public static async Task<TestChatServer> StartAsync(
        IDictionary<string, string?>? settings, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "chatserver-test-" + Guid.NewGuid().ToString("N")[..12]);
        var builder = ChatServerApp.CreateBuilder([], b =>
        {
            b.Logging.ClearProviders();
            var values = new Dictionary<string, string?>
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["ConnectionStrings:Chat"] = string.Empty,
                ["Chat:DataDirectory"] = dataDirectory,
                ["Chat:FaultInjection"] = "true",
                ["Chat:ModelLatency"] = "00:00:00.005",
                ["Isolation:Runner:DefaultDeadline"] = "00:00:10",
                ["Isolation:Rollout:EnforcePercent"] = "100",
                ["Isolation:Rollout:ObservePercent"] = "0",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                values[key] = value;
            }

            b.Configuration.AddInMemoryCollection(values);
            configure?.Invoke(b);
        });
        var app = ChatServerApp.Build(builder);
        await app.StartAsync(cancellationToken);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new TestChatServer(app, dataDirectory, address);
    }

    public async Task<string> LoginAsync(string userId, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("/api/login", new { userId }, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<ChatServerApp.LoginResponse>(cancellationToken))!.Token;
    }

    public Uri SocketUri(string? token) =>
        new UriBuilder(Address) { Scheme = "ws", Path = "/ws", Query = token is null ? string.Empty : "access_token=" + Uri.EscapeDataString(token) }.Uri;

    /// <summary>Signs in as <paramref name="userId"/> and connects, returning once the server said the connection is registered.</summary>
    public async Task<TestSocket> ConnectAsync(string userId, CancellationToken cancellationToken)
    {
        var token = await LoginAsync(userId, cancellationToken);
        var socket = await TestSocket.ConnectAsync(SocketUri(token), cancellationToken);
        await socket.NextAsync(e => e.Type == "ready", cancellationToken);
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean up.
        }
    }
}
