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
        var source = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests", "Isolation.AspNetCore.Tests", "Docs", "AspNetCoreDocSample.cs"));
        var code = SourceSnippet().Matches(source).ToDictionary(m => m.Groups["name"].Value, m => Dedent(m.Groups["body"].Value));
        var shown = DocSnippet().Matches(doc).Where(m => m.Groups["lang"].Value == "csharp").ToArray();

        Assert.Equal(code.Keys.Order(StringComparer.Ordinal), shown.Select(m => m.Groups["name"].Value).Order(StringComparer.Ordinal));
        foreach (var snippet in shown)
        {
            Assert.Equal(code[snippet.Groups["name"].Value], snippet.Groups["body"].Value.TrimEnd());
        }
    }

    [Fact]
    public void Setup_AtMostThreeAddedLinesEach()
    {
        var doc = File.ReadAllText(DocsFile("aspnetcore.md"));
        var snippets = DocSnippet().Matches(doc).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["body"].Value.TrimEnd().Split('\n').Length);

        Assert.True(snippets["signalr-setup"] <= 3);
        Assert.True(snippets["endpoint-setup"] + 1 <= 3); // the registrations, plus .WithIsolation() on the endpoint
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
