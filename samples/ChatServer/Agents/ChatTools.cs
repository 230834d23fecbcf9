using System.Globalization;
using Microsoft.Extensions.AI;

namespace ChatServer.Agents;

/// <summary>
/// The tools the agent may call, as <see cref="AIFunction"/>s: the same declarations a real model would be given. Created
/// once and shared (they hold no state); a tool that needs the run's services gets the run's scope services, passed in
/// <see cref="AIFunctionArguments.Services"/> on each call by <see cref="ToolInvoker"/>.
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
            AIFunctionFactory.Create(CountConversationMessages, CountMessages, "Counts the messages of the current conversation, this one included."),
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

    private static string CountConversationMessages()
    {
        // The conversation the model was given for this run (its history from the session, and the new message).
        var count = 0;
        foreach (var message in FunctionInvokingChatClient.CurrentContext?.Messages ?? [])
        {
            if ((message.Role == ChatRole.User || message.Role == ChatRole.Assistant) && !string.IsNullOrEmpty(message.Text))
            {
                count++;
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"this conversation has {count} {(count == 1 ? "message" : "messages")}.");
    }

    private static string GetTime(IServiceProvider services) =>
        "it is " + services.GetRequiredService<TimeProvider>().GetUtcNow().ToString("HH:mm 'UTC'", CultureInfo.InvariantCulture) + ".";
}
