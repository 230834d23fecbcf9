using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.EndToEnd;

/// <summary>
/// The README's Quick start, as a new user follows it: a fresh <c>dotnet new web</c> project referencing the packed
/// <c>Isolation.Core</c>, whose files are exactly the README's code blocks marked <c>&lt;!-- quick-start:FILE --&gt;</c>.
/// It builds without a warning, runs, and answers the README's request with the README's response.
/// </summary>
[Collection(DotNetCliCollection.Name)]
public sealed partial class QuickStartConsumerTests
{
    [Fact]
    public async Task QuickStart_ReadmeBlocksInAFreshWebProject_BuildCleanRunAndAnswer()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
        var blocks = MarkedBlocks(readme);
        Assert.Equal(["Program.cs", "TriageAgent.cs", "response"], blocks.Keys);
        var request = RequestLine().Match(readme);
        Assert.True(request.Success, "README's Quick start has no curl request to send.");

        var feed = await PackedFeed.GetAsync();
        using var consumer = await WebConsumer.CreateAsync(feed);
        consumer.Write("Program.cs", blocks["Program.cs"]);
        consumer.Write("TriageAgent.cs", blocks["TriageAgent.cs"]);

        var build = await consumer.BuildAsync();
        Assert.True(build.ExitCode == 0, "The Quick start does not build:\n" + build.Output);
        Assert.Contains(" 0 Warning(s)", build.Output, StringComparison.Ordinal);

        using var app = await consumer.StartAsync(TestContext.Current.CancellationToken);
        using var client = new HttpClient { BaseAddress = app.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var body = new StringContent(request.Groups["body"].Value, Encoding.UTF8);
        body.Headers.ContentType = new MediaTypeHeaderValue(request.Groups["type"].Value);
        using var response = await client.PostAsync(request.Groups["path"].Value, body, TestContext.Current.CancellationToken);

        var answer = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {answer}\n{app.Output}");
        Assert.Equal(blocks["response"].Trim(), answer);
    }

    /// <summary>Each fenced block right after a <c>&lt;!-- quick-start:NAME --&gt;</c> line, by name, in order.</summary>
    internal static Dictionary<string, string> MarkedBlocks(string markdown)
    {
        var blocks = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match match in MarkedBlock().Matches(markdown))
        {
            blocks.Add(match.Groups["name"].Value, match.Groups["code"].Value);
        }

        return blocks;
    }

    [GeneratedRegex(@"^<!-- quick-start:(?<name>[\w.]+) -->\n```\w*\n(?<code>.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex MarkedBlock();

    [GeneratedRegex(@"curl -X POST http://localhost:\d+(?<path>/\S+) -H ""Content-Type: (?<type>[^""]+)"" -d '(?<body>[^']*)'")]
    private static partial Regex RequestLine();
}
