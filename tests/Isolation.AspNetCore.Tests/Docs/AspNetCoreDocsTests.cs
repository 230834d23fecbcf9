using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Isolation.AspNetCore.FeatureManagement;
using Isolation.AspNetCore.Tests.SignalR;
using Isolation.AspNetCore.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.AspNetCore.Tests.Docs;

/// <summary>docs/aspnetcore.md shows compiled code: every snippet is the code of AspNetCoreDocSample.cs, and it runs.</summary>
public sealed partial class AspNetCoreDocsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string DocsFile(string name) => Path.Combine(AppContext.BaseDirectory, "Docs", name);

    [Fact]
    public void Snippets_DocsShowTheCompiledCodeUnchanged()
    {
        var doc = File.ReadAllText(DocsFile("aspnetcore.md"));
        var code = CompiledSnippets();
        var shown = DocSnippet().Matches(doc).Where(m => m.Groups["lang"].Value == "csharp").ToArray();

        Assert.Equal(code.Keys.Order(StringComparer.Ordinal), shown.Select(m => m.Groups["name"].Value).Order(StringComparer.Ordinal));
        foreach (var snippet in shown)
        {
            Assert.Equal(code[snippet.Groups["name"].Value], snippet.Groups["body"].Value.TrimEnd());
        }
    }

    [Fact]
    public void Readme_ShowsTheHubAndTheEndpointAsCompiled()
    {
        var readme = File.ReadAllText(DocsFile("README.md"));
        var code = CompiledSnippets();
        var shown = DocSnippet().Matches(readme).Where(m => m.Groups["lang"].Value == "csharp").ToArray();

        Assert.Equal(["endpoint-map", "endpoint-setup", "hub", "signalr-setup"], shown.Select(m => m.Groups["name"].Value).Order(StringComparer.Ordinal));
        foreach (var snippet in shown)
        {
            Assert.Equal(code[snippet.Groups["name"].Value], snippet.Groups["body"].Value.TrimEnd());
        }
    }

    [Theory]
    [InlineData("aspnetcore.md")]
    [InlineData("README.md")]
    public void Setup_AtMostThreeAddedLinesEach(string file)
    {
        var doc = File.ReadAllText(DocsFile(file));
        var snippets = DocSnippet().Matches(doc).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["body"].Value.TrimEnd().Split('\n'));

        // SignalR: the runtime, the agent, and AddSignalR() becoming AddSignalR().AddIsolation().
        Assert.True(snippets["signalr-setup"].Length <= 3);
        Assert.Contains(snippets["signalr-setup"], l => l.EndsWith(".AddSignalR().AddIsolation();", StringComparison.Ordinal));

        // Minimal API: the runtime and the agent, plus .WithIsolation() on the endpoint (the handler takes the scope as a
        // parameter instead of creating it).
        Assert.True(snippets["endpoint-setup"].Length + 1 <= 3);
        Assert.Single(snippets["endpoint-map"], l => l.Contains(".WithIsolation()", StringComparison.Ordinal));
        Assert.Equal(".WithIsolation();", snippets["endpoint-map"][^1]);
    }

    [Fact]
    public async Task SignalRSnippet_RunsOnKestrel_EventsReachTheCallerWithOneTerminal()
    {
        await using var host = await TestHost.StartAsync(AspNetCoreDocSample.SignalRServices, AspNetCoreDocSample.SignalRMap);
        await using var connection = host.Connect("/hub/chat", "alice");
        var log = new EventLog(connection);
        await connection.StartAsync(Ct);

        var runId = await connection.InvokeAsync<string>("Send", "hello", Ct);

        Assert.Equal(AgentEventTypes.AgentCompleted, (await log.TerminalOf(runId)).Type);
        Assert.Equal([AgentEventTypes.AgentStarted, AgentEventTypes.AgentThinking, AgentEventTypes.AgentCompleted], log.OfRun(runId).Select(e => e.Type));
    }

    [Fact]
    public async Task MinimalApiSnippet_RunsOnKestrel_AnswersTheAuthenticatedUser()
    {
        await using var host = await TestHost.StartAsync(AspNetCoreDocSample.MinimalApiServices, AspNetCoreDocSample.MinimalApiMap);
        using var alice = host.CreateClient("alice");
        using var anonymous = host.CreateClient();

        using var answer = await alice.PostAsJsonAsync("/chat", new ChatRequest("hello"), Ct);
        using var refused = await anonymous.PostAsJsonAsync("/chat", new ChatRequest("hello"), Ct);

        Assert.Equal("Triage of 'hello'", await answer.Content.ReadFromJsonAsync<string>(Ct));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task FeatureSnippets_JsonFromDocs_InternalUsersAndTenPercentEnforced()
    {
        var doc = File.ReadAllText(DocsFile("aspnetcore.md"));
        var json = DocSnippet().Matches(doc).Single(m => m.Groups["name"].Value == "feature-json").Groups["body"].Value;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        AspNetCoreDocSample.FeatureServices(builder);
        await using var app = builder.Build();
        var provider = app.Services.GetRequiredService<FeatureFlagModeProvider>();

        var enforced = 0;
        for (var i = 0; i < 1000; i++)
        {
            enforced += await provider.RefreshAsync("user-" + i, Ct) == IsolationMode.Enforce ? 1 : 0;
        }

        Assert.Equal(IsolationMode.Enforce, await provider.RefreshAsync("dev@example.com", Ct));
        Assert.InRange(enforced, 60, 140);
    }

    [Fact]
    public void LogTable_ListsEveryLoggerMessageEventId()
    {
        var doc = File.ReadAllText(DocsFile("aspnetcore.md"));
        var ids = typeof(FeatureFlagModeProvider).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic))
            .Select(m => m.GetCustomAttributes(typeof(Microsoft.Extensions.Logging.LoggerMessageAttribute), false).Cast<Microsoft.Extensions.Logging.LoggerMessageAttribute>().SingleOrDefault())
            .Where(a => a is not null)
            .ToArray();

        Assert.Equal(5, ids.Length);
        Assert.All(ids, id => Assert.Contains($"| {id!.EventId} | `{id.EventName}` | {id.Level} |", doc, StringComparison.Ordinal));
    }

    [Fact]
    public void Readme_LinksThisPage()
    {
        var readme = File.ReadAllText(DocsFile("README.md"));

        Assert.Contains("(docs/aspnetcore.md)", readme, StringComparison.Ordinal);
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Isolation.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Isolation.sln not found above " + AppContext.BaseDirectory);
    }

    private static Dictionary<string, string> CompiledSnippets()
    {
        var source = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests", "Isolation.AspNetCore.Tests", "Docs", "AspNetCoreDocSample.cs"));
        return SourceSnippet().Matches(source).ToDictionary(m => m.Groups["name"].Value, m => Dedent(m.Groups["body"].Value));
    }

    private static string Dedent(string body)
    {
        var lines = body.Replace("\r", string.Empty, StringComparison.Ordinal).Trim('\n').Split('\n');
        var indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart())).TrimEnd();
    }

    [GeneratedRegex(@"// snippet: (?<name>[a-z-]+)\n(?<body>.*?)\n\s*// end snippet", RegexOptions.Singleline)]
    private static partial Regex SourceSnippet();

    [GeneratedRegex(@"<!-- snippet: (?<name>[a-z-]+) -->\n```(?<lang>[a-z]+)\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex DocSnippet();
}
