using System.Data.Common;
using System.Text.Json;
using ChatServer.Agents;
using ChatServer.Auth;
using ChatServer.Dashboard;
using ChatServer.Data;
using ChatServer.Realtime;
using ChatServer.Rollout;
using Isolation;
using Isolation.AgentFramework;
using Microsoft.Agents.AI;
using Isolation.Redis;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ChatServer;

/// <summary>Builds the chat server: the same application for <c>dotnet run</c>, <c>simulate</c> and the tests.</summary>
public static partial class ChatServerApp
{
    /// <summary>Creates the builder with the sample's services; <paramref name="configure"/> may add configuration or replace services.</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        AddServices(builder);
        return builder;
    }

    /// <summary>Builds the application and maps its endpoints. The database schema is created at start.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        MapEndpoints(app);
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();

        // Start listening to the meter before the first request, so the dashboard counts everything.
        _ = app.Services.GetRequiredService<IsolationMetricsAggregator>();
        _ = app.Services.GetRequiredService<ViolationFeed>();
        lifetime.ApplicationStarted.Register(() =>
        {
            var database = app.Services.GetRequiredService<ChatDatabase>();
            LogStarted(app.Logger, database.Description);
            if (app.Services.GetRequiredService<ChatTokenService>().IsEphemeralKey)
            {
                LogEphemeralKey(app.Logger);
            }
        });
        return app;
    }

    /// <summary>Creates the schema (idempotent), through a scope and a session guard like every other database access.</summary>
    public static async Task EnsureDatabaseAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var scopes = services.GetRequiredService<IIsolationScopeFactory>();
        await using var scope = scopes.CreateScope(new UserExecutionContext("system:schema"), TimeSpan.FromSeconds(60));
        await ChatStore.EnsureSchemaAsync(scope, services.GetRequiredService<ChatDatabase>(), services.GetRequiredService<SqlAgentSessionStore<DbConnection>>(), cancellationToken);
    }

    private static void AddServices(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddOptions<ChatServerOptions>().Bind(configuration.GetSection(ChatServerOptions.SectionName))
            .Validate(o => o.MaxDatabaseSessions is >= 1 and <= 1000, "Chat:MaxDatabaseSessions must be from 1 to 1000.")
            .Validate(o => o.MaxMessageLength is >= 1 and <= 4000, "Chat:MaxMessageLength must be from 1 to 4000 (a message must fit in one 8 KB WebSocket message).")
            .Validate(o => o.ModelLatency >= TimeSpan.Zero, "Chat:ModelLatency must not be negative.")
            .ValidateOnStart();
        services.AddOptions<ChatAuthOptions>().Bind(configuration.GetSection(ChatAuthOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChatAuthOptions>, ChatAuthOptionsValidator>();
        services.AddChatAuthentication();
        services.AddProblemDetails();
        services.AddOptions<RolloutOptions>().Bind(configuration.GetSection(RolloutOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RolloutOptions>, RolloutOptionsValidator>();

        // The isolation runtime: modes per user from the rollout, runner options from Isolation:Runner.
        services.AddIsolation(configuration.GetSection(IsolationOptions.SectionName));
        services.AddSingleton<IIsolationModeProvider, RolloutModeProvider>();
        services.Configure<EventDeliveryOptions>(o => o.PayloadTypeInfoResolver = ChatJsonContext.Default);
        services.AddHealthChecks().AddIsolationHealthCheck();

        // The SignalR transport (/hub/chat): one isolation scope per hub call, each connection registered for its user's events.
        services.AddSignalR().AddIsolation();

        // More than one node: events reach a user's connections on the other nodes through Redis (docs/multi-node.md).
        if (!string.IsNullOrEmpty(configuration["Isolation:Redis:Configuration"]))
        {
            services.AddRedisEventDelivery(configuration.GetSection("Isolation:Redis"));
            services.AddHealthChecks().AddIsolationRedisHealthCheck();
        }

        // The model: shared by every run, as a model client is designed to be. Replace this line to use a real one.
        services.AddChatClient(sp => new ScriptedChatClient(sp.GetRequiredService<IOptions<ChatServerOptions>>().Value.ModelLatency));
        services.AddSingleton<ChatTools>();

        // The conversations: Agent Framework sessions in one table of the chat database, each owned by the user who saved
        // it first; the owner check refuses another user's conversation id. TryAdd, so a test can put another store first.
        services.AddSingleton(_ => new SqlAgentSessionStore<DbConnection>());
        services.TryAddSingleton<AgentSessionStore>(sp => new OwnerCheckedAgentSessionStore(sp.GetRequiredService<SqlAgentSessionStore<DbConnection>>()));
        services.AddSingleton<ChatPipeline>();
        services.AddIsolatedAgent<ChatAgent>();

        // The database: every connection is an isolated session, bound to the run's scope.
        var chat = configuration.GetSection(ChatServerOptions.SectionName).Get<ChatServerOptions>() ?? new ChatServerOptions();
        services.AddSingleton(sp => ChatDatabase.Create(
            configuration.GetConnectionString("Chat"),
            Path.Combine(sp.GetRequiredService<IHostEnvironment>().ContentRootPath, chat.DataDirectory)));
        services.AddIsolatedSession<DbConnection>(
            (sp, ct) => sp.GetRequiredService<ChatDatabase>().OpenAsync(ct),
            o =>
            {
                o.MaxSessions = chat.MaxDatabaseSessions;
                o.AcquireTimeout = TimeSpan.FromSeconds(10);
            });

        if (chat.ViolationProbe)
        {
            // Deliberately wrong, for the probe endpoint only: one instance for every scope.
            ProbeAgent? shared = null;
            services.AddIsolatedAgent<ProbeAgent>(_ => shared ??= new ProbeAgent());
        }

        services.AddSingleton<ActiveRuns>();
        services.AddSingleton<ChatSocketHandler>();
        services.AddSingleton<IsolationMetricsAggregator>();
        services.AddSingleton<ViolationFeed>();
        services.AddHostedService<SchemaInitializer>();
    }

    private static void MapEndpoints(WebApplication app)
    {
        var chat = app.Services.GetRequiredService<IOptions<ChatServerOptions>>().Value;
        app.UseStatusCodePages();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapGet("/", () => Pages.Serve("index.html"));
        app.MapGet("/dashboard", () => Pages.Serve("dashboard.html"));
        app.MapGet("/assets/{file}", (string file) => Pages.Serve(file));
        // Readiness for a load balancer leaves the isolation check out: one user's violation must not take the node out of
        // rotation. The isolation check has its own endpoint, for dashboards and alerts (docs/observability.md).
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => !check.Tags.Contains(IsolationHealthChecksBuilderExtensions.HealthCheckName) });
        app.MapHealthChecks("/health/isolation", new HealthCheckOptions { Predicate = check => check.Tags.Contains(IsolationHealthChecksBuilderExtensions.HealthCheckName) });
        app.Map(ChatAuthentication.SocketPath, (HttpContext http, ChatSocketHandler handler) => handler.HandleAsync(http));
        app.MapHub<ChatHub>(ChatAuthentication.HubPath).RequireAuthorization();

        app.MapPost("/api/login", async (HttpContext http, ChatTokenService tokens, IOptions<ChatAuthOptions> auth) =>
        {
            if (!auth.Value.AllowDemoLogin)
            {
                return Results.NotFound();
            }

            var (request, problem) = await ReadLoginAsync(http);
            if (problem is not null)
            {
                return problem;
            }

            try
            {
                ChatTokenService.ValidateUserId(request?.UserId ?? string.Empty);
            }
            catch (ArgumentException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "User name not accepted");
            }

            return Results.Ok(new LoginResponse(request!.UserId!, tokens.Issue(request.UserId!)));
        });

        app.MapGet("/api/history", async (HttpContext http, string? threadId, ChatTokenService tokens, IIsolationScopeFactory scopes, ChatPipeline pipeline) =>
        {
            if (ChatAuthentication.UserIdOf(http.User) is not { } userId)
            {
                return Results.Unauthorized();
            }

            if (threadId is not null && !ChatSocketHandler.IdPattern().IsMatch(threadId))
            {
                return Results.Problem("threadId may hold 1 to 100 letters, digits, '-', '_', '.' or ':'.", statusCode: StatusCodes.Status400BadRequest);
            }

            // Another user's conversation id gets the same answer as an unknown one: an empty history.
            var conversationId = threadId ?? tokens.DefaultConversationId(userId);
            await using var scope = scopes.CreateScope(new UserExecutionContext(userId, threadId: conversationId), TimeSpan.FromSeconds(10));
            var messages = await pipeline.LoadHistoryAsync(conversationId, scope.Aborted);
            return Results.Ok(messages.Select(m => new HistoryItem(m.Role == ChatRole.User ? "user" : "assistant", m.Text)));
        }).RequireAuthorization();

        app.MapGet("/api/isolation", (IServiceProvider sp) => Results.Json(
            IsolationSnapshot.Capture(
                sp.GetRequiredService<IsolationMonitor>(),
                sp.GetRequiredService<IsolationMetricsAggregator>(),
                sp.GetRequiredService<IConnectionRegistry>(),
                sp.GetRequiredService<ActiveRuns>(),
                sp.GetRequiredService<ViolationFeed>(),
                sp.GetRequiredService<IOptionsMonitor<RolloutOptions>>(),
                sp.GetRequiredService<TimeProvider>()),
            DashboardJsonContext.Default.IsolationSnapshot));

        if (chat.ViolationProbe)
        {
            app.MapPost("/api/diagnostics/violation", async (IIsolationScopeFactory scopes) =>
            {
                // Two users' scopes get the shared ProbeAgent: the second hand-out is a singleton_reuse violation.
                await using (var first = scopes.CreateScope(new UserExecutionContext("probe-a")))
                {
                    first.GetAgent<ProbeAgent>().Note("probe-a was here");
                }

                await using var second = scopes.CreateScope(new UserExecutionContext("probe-b"));
                try
                {
                    second.GetAgent<ProbeAgent>();
                    return Results.Ok(new ProbeResult(second.ViolationCount > 0 ? "singleton_reuse" : "none", second.Mode.ToString()));
                }
                catch (IsolationViolationException ex)
                {
                    return Results.Ok(new ProbeResult(ex.Kind.ToTagValue(), second.Mode.ToString()));
                }
            });
        }
    }

    /// <summary>
    /// Reads the sign-in body, at most <see cref="MaxLoginBodyBytes"/>: bad JSON, a body that is not JSON or one that is
    /// too big answers a <c>ProblemDetails</c> saying what is wrong, and never echoes the body back.
    /// </summary>
    private static async Task<(LoginRequest? Request, IResult? Problem)> ReadLoginAsync(HttpContext http)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxLoginBodyBytes;
        }

        try
        {
            return (await http.Request.ReadFromJsonAsync<LoginRequest>(http.RequestAborted), null);
        }
        catch (JsonException ex)
        {
            return (null, Results.Problem(
                $"The body is not valid JSON ({ex.Message}). Send {{\"userId\":\"alice\"}} with Content-Type: application/json.",
                statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid JSON"));
        }
        catch (InvalidOperationException ex)
        {
            return (null, Results.Problem(
                ex.Message + " Send {\"userId\":\"alice\"} with Content-Type: application/json.",
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Not JSON"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Results.Problem(
                $"The sign-in body is limited to {MaxLoginBodyBytes} bytes; a user name has at most {ChatTokenService.MaxUserIdLength} characters.",
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Body too large"));
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Chat history in {Database}; chat page on /, dashboard on /dashboard")]
    private static partial void LogStarted(ILogger logger, string database);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Chat:Auth:SigningKey is not set: tokens are signed with a key made at start and end with the process.")]
    private static partial void LogEphemeralKey(ILogger logger);

    /// <summary>The largest sign-in body read, in bytes.</summary>
    public const int MaxLoginBodyBytes = 4 * 1024;

    public sealed record LoginRequest(string? UserId);

    public sealed record LoginResponse(string UserId, string Token);

    public sealed record HistoryItem(string Role, string Text);

    public sealed record ProbeResult(string Violation, string Mode);

    /// <summary>
    /// Creates one <see cref="ChatAgent"/> in a scope of its own (user <c>system:warmup</c>), so the JIT compiles its
    /// factory before the first user's run: that first creation is what <see cref="IsolationMetricsAggregator"/> leaves
    /// out of the agent creation percentiles.
    /// </summary>
    public static async Task WarmUpAsync(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        await using var scope = services.GetRequiredService<IIsolationScopeFactory>().CreateScope(new UserExecutionContext("system:warmup"), TimeSpan.FromSeconds(60));
        _ = scope.GetAgent<ChatAgent>();
    }

    /// <summary>
    /// Creates the schema and warms up the agent when the host starts. <see cref="IHostedLifecycleService.StartingAsync"/>
    /// runs before any hosted service's <c>StartAsync</c>, Kestrel's included, so no request can arrive before the table exists.
    /// </summary>
    private sealed class SchemaInitializer(IServiceProvider services) : IHostedLifecycleService
    {
        public async Task StartingAsync(CancellationToken cancellationToken)
        {
            await EnsureDatabaseAsync(services, cancellationToken);
            await WarmUpAsync(services);
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
