using Isolation.AspNetCore.SignalR;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;

namespace Isolation.AspNetCore.Tests.Docs;

// The code shown in docs/aspnetcore.md, between "snippet: name" and "end snippet"; DocsTests checks the page shows it
// unchanged and runs it on Kestrel.
public sealed record ChatRequest(string Message);

public sealed class TriageAgent : IsolatedAgent
{
    public async Task<string> AnswerAsync(string message, IAgentEventEmitter events, CancellationToken cancellationToken)
    {
        EnsureOwned();
        await events.EmitAsync(AgentEventTypes.AgentThinking, "triage", cancellationToken);
        return $"Triage of '{message}'";
    }
}

// snippet: hub
public sealed class ChatHub(IIsolatedRunner runner) : Hub
{
    // Returns the run id at once; the run's events arrive on the client method "isolation" of every connection of
    // this user, ending with exactly one agent_completed, agent_failed, agent_timeout or agent_rejected.
    public string Send(string message) => runner.StartRun(Context, async (scope, ct) =>
    {
        var agent = scope.GetAgent<TriageAgent>();
        await agent.AnswerAsync(message, scope.Events, ct);
    }).RunId;
}
// end snippet

internal static class AspNetCoreDocSample
{
    public static void SignalRServices(WebApplicationBuilder builder)
    {
        // snippet: signalr-setup
        builder.Services.AddIsolation(builder.Configuration.GetSection("Isolation"));
        builder.Services.AddIsolatedAgent<TriageAgent>();
        builder.Services.AddSignalR().AddIsolation();
        // end snippet
    }

    public static void SignalRMap(WebApplication app)
    {
        // snippet: signalr-map
        app.MapHub<ChatHub>("/hub/chat");
        // end snippet
    }

    public static void MinimalApiServices(WebApplicationBuilder builder)
    {
        // snippet: endpoint-setup
        builder.Services.AddIsolation(builder.Configuration.GetSection("Isolation"));
        builder.Services.AddIsolatedAgent<TriageAgent>();
        // end snippet
    }

    public static void MinimalApiMap(WebApplication app)
    {
        // snippet: endpoint-map
        app.MapPost("/chat", async (ChatRequest request, IsolationScope scope) =>
        {
            var agent = scope.GetAgent<TriageAgent>();
            return Results.Ok(await agent.AnswerAsync(request.Message, scope.Events, scope.Aborted));
        })
        .RequireAuthorization()
        .WithIsolation();
        // end snippet
    }

    public static void FeatureServices(WebApplicationBuilder builder)
    {
        // snippet: feature-setup
        builder.Services.AddFeatureManagement();
        builder.Services.AddIsolationFeatureManagement(o =>
            o.GetGroups = userId => userId.EndsWith("@example.com", StringComparison.Ordinal) ? ["internal"] : []);
        // end snippet
    }
}
