using System.Globalization;
using ChatServer.Data;
using Isolation;
using Microsoft.Extensions.AI;

namespace ChatServer.Agents;

/// <summary>
/// The tools the agent may call, as <see cref="AIFunction"/>s: the same declarations a real model would be given. Created
/// once and shared (they hold no state); a tool that needs the run's data gets the run's <see cref="IsolationScope"/>
/// from the scope's services, passed in <see cref="AIFunctionArguments.Services"/> on each call.
/// </summary>
public sealed class ChatTools
{
    public const string SearchKnowledgeBase = "search_knowledge_base";
    public const string Weather = "get_weather";
    public const string CountMessages = "count_messages";
    public const string CurrentTime = "get_time";

    private static readonly (string Keyword, string Answer)[] Knowledge =
    [
        ("isolation", "every request gets its own agent, session and event channel, and violations are reported"),
        ("refund", "refunds are processed within 5 business days"),
        ("password", "you can reset your password from the account page"),
        ("price", "the standard plan costs 10 EUR per month"),
    ];

    public ChatTools()
    {
        All =
        [
            AIFunctionFactory.Create(Search, SearchKnowledgeBase, "Searches the help-centre articles for a question."),
            AIFunctionFactory.Create(GetWeather, Weather, "Returns today's weather for a city."),
            AIFunctionFactory.Create(CountUserMessagesAsync, CountMessages, "Counts the messages the current user has sent and received."),
            AIFunctionFactory.Create(GetTime, CurrentTime, "Returns the current UTC time."),
        ];
    }

    /// <summary>Gets every tool, to pass as <see cref="ChatOptions.Tools"/>.</summary>
    public IList<AITool> All { get; }

    public AIFunction? Find(string name)
    {
        foreach (var tool in All)
        {
            if (tool is AIFunction function && string.Equals(function.Name, name, StringComparison.Ordinal))
            {
                return function;
            }
        }

        return null;
    }

    private static string Search(string query)
    {
        foreach (var (keyword, answer) in Knowledge)
        {
            if (query.Contains(keyword, StringComparison.OrdinalIgnoreCase))
            {
                return answer + ".";
            }
        }

        return $"no article matches \"{(query.Length > 40 ? query[..40] + "…" : query)}\".";
    }

    private static string GetWeather(string city)
    {
        // Deterministic per city: the same question gets the same answer in every run and test.
        var seed = 0;
        foreach (var c in city.ToUpperInvariant())
        {
            seed = (seed * 31) + c;
        }

        var temperature = 5 + (Math.Abs(seed) % 25);
        var sky = (Math.Abs(seed) % 3) switch { 0 => "sunny", 1 => "cloudy", _ => "rainy" };
        return string.Create(CultureInfo.InvariantCulture, $"{city}: {sky}, {temperature} °C.");
    }

    private static async Task<string> CountUserMessagesAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var scope = services.GetRequiredService<IsolationScope>();
        var count = await ChatStore.CountMessagesAsync(scope, cancellationToken);
        return string.Create(CultureInfo.InvariantCulture, $"you have {count} messages in your history.");
    }

    private static string GetTime(IServiceProvider services) =>
        "it is " + services.GetRequiredService<TimeProvider>().GetUtcNow().ToString("HH:mm 'UTC'", CultureInfo.InvariantCulture) + ".";
}
