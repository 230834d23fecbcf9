using System.Net.Http.Json;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.EndToEnd;

/// <summary>
/// <c>dotnet format analyzers</c> with the packed analyzers and code fixes, on a fresh web project that has the bugs of
/// <c>samples/LegacyChat</c> that have a fix: a singleton agent taken from the scope (ISO001), a singleton connection
/// (ISO101), an agent made with <c>new</c> (ISO004) and a connection never disposed (ISO103). The fixed project must build
/// without an ISO diagnostic and then work: the first fix of ISO001 (<c>AddIsolatedAgent&lt;T&gt;()</c>) is the one a
/// scope's <c>GetAgent&lt;T&gt;()</c> needs; the scoped registration would build and fail at the first request.
/// </summary>
[Collection(DotNetCliCollection.Name)]
public sealed class DotNetFormatRoundTripTests
{
    private const string Program = """
        using Isolation;
        using Microsoft.Data.Sqlite;

        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddIsolation();

        // As in samples/LegacyChat: one agent and one connection for the whole process.
        builder.Services.AddSingleton<TriageAgent>(); // [ISO001 error]
        builder.Services.AddSingleton<SqliteConnection>(_ => new SqliteConnection("Data Source=:memory:")); // [ISO101 error]

        var app = builder.Build();
        app.MapPost("/chat/{userId}", async (string userId, ChatRequest request, IIsolationScopeFactory scopes) =>
        {
            await using var scope = scopes.CreateScope(new UserExecutionContext(userId), TimeSpan.FromSeconds(30));
            var agent = new TriageAgent(); // [ISO004 warning]
            return Results.Ok(await agent.AnswerAsync(request.Message, scope.Aborted));
        });

        app.MapPost("/audit", () =>
        {
            var connection = new SqliteConnection("Data Source=:memory:"); // [ISO103 warning]
            connection.Open();
            return Results.Ok("audited");
        });

        app.Run();

        public sealed record ChatRequest(string Message);
        """;

    private const string Agent = """
        using Isolation;

        public sealed class TriageAgent : IsolatedAgent
        {
            private readonly List<string> _history = new();

            public async Task<string> AnswerAsync(string message, CancellationToken cancellationToken)
            {
                EnsureOwned();
                _history.Add(message);
                await Task.Delay(10, cancellationToken);
                return $"Triage of '{message}' ({_history.Count} message in this conversation)";
            }
        }
        """;

    [Fact]
    public async Task Format_LegacyChatBugs_FixedProjectBuildsAndServesRequests()
    {
        var feed = await PackedFeed.GetAsync();
        using var consumer = await WebConsumer.CreateAsync(feed, ("Microsoft.Data.Sqlite", WebConsumer.CentralVersion("Microsoft.Data.Sqlite")));
        consumer.Write("Program.cs", Program);
        consumer.Write("TriageAgent.cs", Agent);

        var before = await consumer.BuildAsync();
        Assert.True(before.ExitCode != 0, "The buggy project built:\n" + before.Output);
        Assert.Equal(DotNetCli.ExpectedDiagnostics("Program.cs", Program), DotNetCli.IsolationDiagnostics(before.Output));

        var format = await consumer.RunAsync("format", "analyzers", "Consumer.csproj", "--severity", "warn", "--no-restore", "--verbosity", "detailed");
        Assert.True(format.ExitCode == 0, "dotnet format failed:\n" + format.Output);
        var fixedProgram = consumer.Read("Program.cs");
        TestContext.Current.TestOutputHelper?.WriteLine("dotnet format analyzers:\n" + format.Output + "\nProgram.cs after the fixes:\n" + fixedProgram);

        Assert.Contains("builder.Services.AddIsolatedAgent<TriageAgent>();", fixedProgram, StringComparison.Ordinal);
        Assert.Contains("builder.Services.AddScoped<SqliteConnection>(", fixedProgram, StringComparison.Ordinal);
        Assert.Contains("var agent = scope.GetAgent<TriageAgent>();", fixedProgram, StringComparison.Ordinal);
        Assert.Contains("using var connection = new SqliteConnection(", fixedProgram, StringComparison.Ordinal);

        var after = await consumer.BuildAsync();
        Assert.True(after.ExitCode == 0, "The fixed project does not build:\n" + after.Output + "\n" + fixedProgram);
        Assert.Empty(DotNetCli.IsolationDiagnostics(after.Output));

        using var app = await consumer.StartAsync(TestContext.Current.CancellationToken);
        using var client = new HttpClient { BaseAddress = app.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var chat = await client.PostAsJsonAsync("/chat/alice", new { message = "hello" }, TestContext.Current.CancellationToken);
        var answer = await chat.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(chat.IsSuccessStatusCode, $"/chat answered {(int)chat.StatusCode}: {answer}\n{app.Output}");
        Assert.Equal("\"Triage of 'hello' (1 message in this conversation)\"", answer);
        using var audit = await client.PostAsync("/audit", null, TestContext.Current.CancellationToken);
        Assert.True(audit.IsSuccessStatusCode, $"/audit answered {(int)audit.StatusCode}\n{app.Output}");
    }
}
