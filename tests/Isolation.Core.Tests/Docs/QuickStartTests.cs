using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Docs;

public sealed class QuickStartTests
{
    [Fact]
    public async Task QuickStart_ServesTwoUsersWithSeparateAgents()
    {
        await using var app = QuickStart.Build(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var client = new HttpClient { BaseAddress = new Uri(address) };

        var alice = await client.PostAsJsonAsync("/chat/alice", new ChatRequest("hello"), timeout.Token);
        var bob = await client.PostAsJsonAsync("/chat/bob", new ChatRequest("hi"), timeout.Token);

        Assert.Equal("Triage of 'hello' (1 message in this conversation)", await alice.Content.ReadFromJsonAsync<string>(timeout.Token));
        Assert.Equal("Triage of 'hi' (1 message in this conversation)", await bob.Content.ReadFromJsonAsync<string>(timeout.Token));
        Assert.Equal(0, app.Services.GetRequiredService<IsolationMonitor>().TotalViolations);
        Assert.Equal(2, app.Services.GetRequiredService<IsolationMonitor>().FinishedScopes);
        await app.StopAsync(timeout.Token);
    }

    [Theory]
    [InlineData("quick-start")]
    [InlineData("quick-start-agent")]
    public void Readme_QuickStart_MatchesCompiledSnippet(string marker)
    {
        var readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Docs", "README.md"));
        var source = File.ReadAllText(Path.Combine(FindRepositoryRoot(), "tests", "Isolation.Core.Tests", "Docs", "QuickStart.cs"));

        var snippet = Extract(source, marker);

        Assert.Contains(snippet, readme.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    private static string Extract(string source, string marker)
    {
        var lines = source.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var begin = Array.FindIndex(lines, l => l.Trim() == "// " + marker + ":begin");
        var end = Array.FindIndex(lines, l => l.Trim() == "// " + marker + ":end");
        Assert.True(begin >= 0 && end > begin, "markers for " + marker + " not found");
        var body = lines[(begin + 1)..end];
        var indent = body.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", body.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    internal static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Isolation.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Isolation.sln not found above " + AppContext.BaseDirectory);
    }
}
