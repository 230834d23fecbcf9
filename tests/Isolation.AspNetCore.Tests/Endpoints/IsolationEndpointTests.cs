using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Isolation.AspNetCore.Endpoints;
using Isolation.AspNetCore.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.AspNetCore.Tests.Endpoints;

public sealed class IsolationEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class PooledSession
    {
    }

    private sealed class Gate
    {
        public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<IsolationScope> Scopes { get; } = [];
    }

    private static Task<TestHost> StartAsync(Action<IServiceCollection>? configure = null) => TestHost.StartAsync(
        services =>
        {
            services.AddIsolation(o => o.Mode = IsolationMode.Enforce);
            services.AddSingleton<Gate>();
            services.AddIsolatedSession<PooledSession>((_, _) => ValueTask.FromResult(new PooledSession()), o =>
            {
                o.MaxSessions = 1;
                o.AcquireTimeout = TimeSpan.FromMilliseconds(100);
            });
            configure?.Invoke(services);
        },
        app =>
        {
            app.MapGet("/me", (IsolationScope scope, Gate gate) =>
            {
                lock (gate.Scopes)
                {
                    gate.Scopes.Add(scope);
                }

                return $"{scope.Context.UserId}|{ReferenceEquals(IsolationScope.Current, scope)}|{scope.IsDisposed}";
            }).WithIsolation();

            app.MapGet("/hold", async (IsolationScope scope, Gate gate) =>
            {
                await using var session = await scope.OpenSessionAsync<PooledSession>(scope.Aborted);
                gate.Held.TrySetResult();
                await gate.Release.Task.WaitAsync(scope.Aborted);
                return "released";
            }).WithIsolation();

            app.MapGet("/violate", (IsolationScope scope) =>
            {
                scope.ReportViolation(new IsolationViolation(
                    ViolationKind.CrossScopeAccess,
                    "Test.Conversation",
                    $"User '{scope.Context.UserId}' touched the conversation of user 'victim-7'.",
                    scope.Context,
                    new UserExecutionContext("victim-7")));
                return "unreachable in Enforce";
            }).WithIsolation();

            app.MapGet("/slow", async (IsolationScope scope) =>
            {
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, scope.Aborted);
                }
                catch (OperationCanceledException)
                {
                }

                return scope.DeadlineExceeded ? "deadline" : "no deadline";
            }).WithIsolation();

            app.MapGet("/wait", async (IsolationScope scope, Gate gate) =>
            {
                lock (gate.Scopes)
                {
                    gate.Scopes.Add(scope);
                }

                gate.Held.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, scope.Aborted);
                return "unreachable";
            }).WithIsolation();

            var group = app.MapGroup("/group").WithIsolation();
            group.MapGet("/twice", (IsolationScope scope) => scope.Context.UserId).WithIsolation();
            group.MapGet("/once", (IsolationScope scope) => scope.Context.UserId);

            app.MapGet("/plain", () => "no isolation");
        });

    [Fact]
    public async Task WithIsolation_AuthenticatedUser_HandlerGetsCurrentScopeOfThatUserDisposedAfterResponse()
    {
        await using var host = await StartAsync();
        using var client = host.CreateClient("alice");

        var body = await client.GetStringAsync("/me", Ct);

        Assert.Equal("alice|True|False", body);
        var scope = Assert.Single(host.Services.GetRequiredService<Gate>().Scopes);
        await Poll.UntilAsync(() => scope.IsDisposed, "the request's scope is disposed after the response");
    }

    [Fact]
    public async Task WithIsolation_ConcurrentUsers_EachRequestItsOwnScope()
    {
        await using var host = await StartAsync();
        var users = Enumerable.Range(0, 10).Select(i => "user-" + i).ToArray();
        var clients = users.Select(u => host.CreateClient(u)).ToArray();

        var bodies = await Task.WhenAll(clients.Select(c => c.GetStringAsync("/me", Ct)));

        Assert.Equal(users.Select(u => u + "|True|False"), bodies);
        Assert.Equal(10, host.Services.GetRequiredService<Gate>().Scopes.Distinct().Count());
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task WithIsolation_Unauthenticated_401ProblemWithReason()
    {
        await using var host = await StartAsync();
        using var client = host.CreateClient(user: null);

        using var response = await client.GetAsync("/me", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("no authenticated user", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(host.Services.GetRequiredService<Gate>().Scopes);
    }

    [Fact]
    public async Task WithIsolation_ConfiguredClaimMissing_401NamingTheClaim()
    {
        await using var host = await StartAsync(s => s.Configure<IsolationEndpointOptions>(o => o.UserIdClaimType = "sub"));
        using var client = host.CreateClient("alice");

        using var response = await client.GetAsync("/me", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("'sub' claim", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("UserIdClaimType", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithIsolation_ConfiguredClaimType_UserIdFromThatClaim()
    {
        await using var host = await StartAsync(s => s.Configure<IsolationEndpointOptions>(o => o.UserIdClaimType = "sub"));
        using var client = host.CreateClient("alice");
        client.DefaultRequestHeaders.Add("X-Test-Claim", "sub=user-42");

        var body = await client.GetStringAsync("/me", Ct);

        Assert.Equal("user-42|True|False", body);
    }

    [Fact]
    public async Task WithIsolation_SessionPoolExhausted_503WithRetryAfter()
    {
        await using var host = await StartAsync(s => s.Configure<IsolationEndpointOptions>(o => o.RetryAfter = TimeSpan.FromMilliseconds(2500)));
        var gate = host.Services.GetRequiredService<Gate>();
        using var holder = host.CreateClient("alice");
        using var other = host.CreateClient("bob");

        var holding = holder.GetStringAsync("/hold", Ct);
        await gate.Held.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        using var response = await other.GetAsync("/hold", Ct);
        gate.Release.SetResult();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("3", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("released", await holding);
    }

    [Fact]
    public async Task WithIsolation_IsolationViolation_Problem500WithoutUserData()
    {
        await using var host = await StartAsync();
        using var client = host.CreateClient("alice");

        using var response = await client.GetAsync("/violate", Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("alice", text, StringComparison.Ordinal);
        Assert.DoesNotContain("victim-7", text, StringComparison.Ordinal);
        var problem = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal("cross_scope_access", problem.GetProperty("violationKind").GetString());
        Assert.Equal(1, host.Services.GetRequiredService<IsolationMonitor>().GetViolationCount(ViolationKind.CrossScopeAccess));
    }

    [Fact]
    public async Task WithIsolation_DeadlineFromOptions_AbortsTheScope()
    {
        await using var host = await StartAsync(s => s.Configure<IsolationEndpointOptions>(o => o.Deadline = TimeSpan.FromMilliseconds(200)));
        using var client = host.CreateClient("alice");

        Assert.Equal("deadline", await client.GetStringAsync("/slow", Ct));
    }

    [Fact]
    public async Task WithIsolation_ClientDisconnects_ScopeAbortedAndDisposed()
    {
        await using var host = await StartAsync();
        var gate = host.Services.GetRequiredService<Gate>();
        using var client = host.CreateClient("alice");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var request = client.GetAsync("/wait", cancel.Token);
        await gate.Held.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var scope = Assert.Single(gate.Scopes);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await Poll.UntilAsync(() => scope.IsDisposed, "the scope of a request whose client went away is aborted and disposed");
        Assert.False(scope.DeadlineExceeded);
    }

    [Fact]
    public async Task WithIsolation_OnGroupAndEndpoint_OneScopePerRequest()
    {
        await using var host = await StartAsync();
        using var client = host.CreateClient("alice");
        var monitor = host.Services.GetRequiredService<IsolationMonitor>();

        Assert.Equal("alice", await client.GetStringAsync("/group/twice", Ct));
        Assert.Equal("alice", await client.GetStringAsync("/group/once", Ct));
        Assert.Equal("no isolation", await client.GetStringAsync("/plain", Ct));

        await Poll.UntilAsync(() => monitor.FinishedScopes >= 2, "both group requests finished their scopes");
        Assert.Equal(2, monitor.FinishedScopes);
    }

    [Fact]
    public async Task WithIsolation_IsolationNotRegistered_FailsNamingAddIsolation()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseSetting("urls", "http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/x", (HttpContext _) => "x").WithIsolation();
        var endpoint = (RouteEndpoint)((IEndpointRouteBuilder)app).DataSources.Single().Endpoints.Single();
        var http = new DefaultHttpContext { RequestServices = app.Services };
        http.SetEndpoint(endpoint);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => endpoint.RequestDelegate!.Invoke(http));

        Assert.Contains("AddIsolation()", ex.Message, StringComparison.Ordinal);
    }
}
