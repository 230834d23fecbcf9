// The README's quick start, compiled and run by QuickStartTests. Between the markers, the text must equal the README's.
using Isolation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Docs;

public static class QuickStart
{
    public static WebApplication Build(string[] args)
    {
        // quick-start:begin
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddIsolation(builder.Configuration.GetSection("Isolation"));
        builder.Services.AddIsolatedAgent<TriageAgent>();

        var app = builder.Build();
        app.MapPost("/chat/{userId}", async (string userId, ChatRequest request, IIsolationScopeFactory scopes) =>
        {
            // One scope per request: its own agent, its own services, a deadline, cleanup when it ends.
            await using var scope = scopes.CreateScope(new UserExecutionContext(userId), TimeSpan.FromSeconds(30));
            var agent = scope.GetAgent<TriageAgent>();
            return Results.Ok(await agent.AnswerAsync(request.Message, scope.Aborted));
        });
        // quick-start:end
        return app;
    }
}

public sealed record ChatRequest(string Message);

// quick-start-agent:begin
public sealed class TriageAgent : IsolatedAgent
{
    private readonly List<string> _history = new(); // per request: never shared between users

    public async Task<string> AnswerAsync(string message, CancellationToken cancellationToken)
    {
        EnsureOwned(); // reports use from another user's scope or after this request ended
        _history.Add(message);
        await Task.Delay(10, cancellationToken);
        return $"Triage of '{message}' ({_history.Count} message in this conversation)";
    }
}
// quick-start-agent:end
