using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using ChatServer.Tests.CommandLine;
using ChatServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace ChatServer.Tests.Http;

/// <summary>The server's edges over HTTP: the sign-in's bad inputs, refused upgrades, and a bad configuration at start.</summary>
public sealed class HttpEdgeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Login_TenMegabyteUserName_413ProblemWithoutTheName()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var name = new string('x', 10 * 1024 * 1024);

        // Expect: 100-continue, so the client waits for the server's answer instead of pushing 10 MB into a closed connection.
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/login", UriKind.Relative)) { Content = Json($$"""{"userId":"{{name}}"}""") };
        request.Headers.ExpectContinue = true;
        using var response = await server.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("limited to 4096 bytes", body, StringComparison.Ordinal);
        Assert.True(body.Length < 1000, $"the answer has {body.Length} characters");
    }

    [Fact]
    public async Task Login_UserNameOver64Characters_400ProblemQuotingOnlyItsStart()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var name = new string('y', 3000);

        using var response = await server.Http.PostAsync(new Uri("/api/login", UriKind.Relative), Json($$"""{"userId":"{{name}}"}"""), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("(3000 characters) is not accepted: use 1 to 64 characters", body, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('y', 64), body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"userId\":")]
    [InlineData("userId=alice")]
    [InlineData("")]
    public async Task Login_InvalidJson_400ProblemDetailsSayingWhatToSend(string body)
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);

        using var response = await server.Http.PostAsync(new Uri("/api/login", UriKind.Relative), Json(body), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("\"title\":\"Invalid JSON\"", text, StringComparison.Ordinal);
        Assert.Contains("The body is not valid JSON", text, StringComparison.Ordinal);
        Assert.Contains("userId", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_NotJsonContentType_415ProblemDetails()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);

        using var response = await server.Http.PostAsync(new Uri("/api/login", UriKind.Relative), new StringContent("alice", Encoding.UTF8, "text/plain"), Ct);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("Content-Type: application/json", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_ValidName_IssuesAJwt()
    {
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var token = await server.LoginAsync("alice", Ct);
        Assert.Equal(3, token.Split('.').Length);
    }

    [Theory]
    [InlineData(null, "no token")]
    [InlineData("not-a-jwt", "the token is not a JWT")]
    public async Task Connect_WithoutAValidToken_401WithWwwAuthenticateAndOneLogLine(string? token, string reason)
    {
        var logs = new FakeLogCollector();
        await using var server = await TestChatServer.StartAsync(null, b => b.Logging.AddProvider(new FakeLoggerProvider(logs)), Ct);

        var (status, headers) = await UpgradeAsync(server.SocketUri(token));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.StartsWith("Bearer", Assert.Single(headers["WWW-Authenticate"]), StringComparison.Ordinal);
        var line = Assert.Single(logs.GetSnapshot(), r => r.Category?.StartsWith("ChatServer", StringComparison.Ordinal) == true);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains("WebSocket upgrade refused with 401: " + reason, line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_ExpiredToken_401AndTheLogSaysExpired()
    {
        var logs = new FakeLogCollector();
        await using var server = await TestChatServer.StartAsync(
            new Dictionary<string, string?> { ["Chat:Auth:TokenLifetime"] = "00:00:01" },
            b => b.Logging.AddProvider(new FakeLoggerProvider(logs)),
            Ct);
        var token = await server.LoginAsync("alice", Ct);
        await Task.Delay(TimeSpan.FromSeconds(1.2), Ct);

        var (status, _) = await UpgradeAsync(server.SocketUri(token));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains(logs.GetSnapshot(), r => r.Message.Contains("WebSocket upgrade refused with 401: the token expired", StringComparison.Ordinal));
    }

    [Fact]
    public async Task History_TokenInTheQuery_Refused()
    {
        // The query carries the token on /ws only, as SignalR does: elsewhere it would end up in access logs.
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        var token = await server.LoginAsync("alice", Ct);

        using var response = await server.Http.GetAsync(new Uri("/api/history?access_token=" + Uri.EscapeDataString(token), UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.Single().Scheme, StringComparison.Ordinal);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Start_BadSigningKey_ThrowsBeforeListening()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            TestChatServer.StartAsync(new Dictionary<string, string?> { ["Chat:Auth:SigningKey"] = "c2hvcnQ=" }, Ct));
        Assert.Contains("Chat:Auth:SigningKey has 5 bytes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("c2hvcnQ=", "Chat:Auth:SigningKey has 5 bytes; an HMAC-SHA256 key needs at least 32.")]
    [InlineData("not base64!", "Chat:Auth:SigningKey is not base64")]
    public async Task Process_BadSigningKey_ExitsNonZeroWithTheMessageAndNoStackTrace(string key, string message)
    {
        var (exitCode, output, error) = await ChatServerCommandTests.RunChatServerAsync([], new Dictionary<string, string> { ["Chat__Auth__SigningKey"] = key });

        Assert.Equal(1, exitCode);
        Assert.Contains("ChatServer could not start: " + message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", output, StringComparison.Ordinal);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private static async Task<(HttpStatusCode Status, IReadOnlyDictionary<string, IEnumerable<string>> Headers)> UpgradeAsync(Uri uri)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, Ct));
        return (socket.HttpStatusCode, socket.HttpResponseHeaders ?? new Dictionary<string, IEnumerable<string>>());
    }
}
