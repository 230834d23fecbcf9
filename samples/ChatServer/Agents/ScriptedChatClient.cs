using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;

namespace ChatServer.Agents;

/// <summary>
/// A deterministic stand-in for a language model, so the sample runs offline and its tests are repeatable. It behaves
/// like a tool-calling model: given a user message it answers with tool calls chosen by keywords (the triage step);
/// given tool results it writes the answer from them; asked "what did I ask" it lists the earlier questions of the
/// conversation it was given (so a test can see which history the model got). It keeps no state between calls, so one instance serves every
/// user, like a real <see cref="IChatClient"/>. Replace it with a real model in one line (see <c>docs/sample.md</c>).
/// </summary>
public sealed class ScriptedChatClient : IChatClient
{
    public const string ModelId = "scripted-triage-1";

    /// <summary>The answer to "what did I ask" in a conversation with no earlier question.</summary>
    public const string NothingEarlier = "You have not asked me anything else in this conversation.";

    /// <summary>How the answer to "what did I ask" starts when the conversation has earlier questions (they follow, quoted).</summary>
    public const string EarlierPrefix = "Earlier in this conversation you asked:";

    private readonly TimeSpan _latency;
    private readonly TimeProvider _time;
    private long _calls;

    public ScriptedChatClient(TimeSpan latency, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        _latency = latency;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Gets how many responses the model produced, all users together.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as IList<ChatMessage> ?? messages.ToList();
        if (_latency > TimeSpan.Zero)
        {
            // "Thinking": a model call takes time and honours cancellation, like an HTTP call to a real one.
            await Task.Delay(_latency, _time, cancellationToken);
        }

        Interlocked.Increment(ref _calls);
        var last = list.Count == 0 ? null : list[^1];
        var text = last?.Text ?? string.Empty;
        var message = last is not null && last.Role == ChatRole.Tool
            ? Answer(list)
            : text.Contains("what did i ask", StringComparison.OrdinalIgnoreCase) ? Recall(list) : Triage(text, options);
        return new ChatResponse(message)
        {
            ModelId = ModelId,
            ResponseId = "resp-" + Interlocked.Read(ref _calls).ToString(CultureInfo.InvariantCulture),
            FinishReason = message.Contents.OfType<FunctionCallContent>().Any() ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return new ChatClientMetadata("scripted", null, ModelId);
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
        // Nothing to release: the model holds no connections.
    }

    /// <summary>The triage step: which tools to call for this message, or a direct answer when no tool is offered.</summary>
    private static ChatMessage Triage(string text, ChatOptions? options)
    {
        var offered = options?.Tools?.Select(t => t.Name).ToHashSet(StringComparer.Ordinal) ?? [];
        var calls = new List<AIContent>();
        var lower = text.ToLowerInvariant();
        var id = 0;

        void Call(string name, Dictionary<string, object?> arguments)
        {
            if (offered.Contains(name))
            {
                calls.Add(new FunctionCallContent("call-" + (++id).ToString(CultureInfo.InvariantCulture), name, arguments));
            }
        }

        if (lower.Contains("weather", StringComparison.Ordinal))
        {
            Call(ChatTools.Weather, new() { ["city"] = CityIn(text) });
        }

        if (lower.Contains("how many", StringComparison.Ordinal) || lower.Contains("history", StringComparison.Ordinal) || lower.Contains("count", StringComparison.Ordinal))
        {
            Call(ChatTools.CountMessages, new());
        }

        if (lower.Contains("time", StringComparison.Ordinal))
        {
            Call(ChatTools.CurrentTime, new());
        }

        if (calls.Count == 0)
        {
            Call(ChatTools.SearchKnowledgeBase, new() { ["query"] = text.Length > 200 ? text[..200] : text });
        }

        return calls.Count == 0
            ? new ChatMessage(ChatRole.Assistant, "I have no tools for this here, but I read: " + text)
            : new ChatMessage(ChatRole.Assistant, calls);
    }

    /// <summary>"What did I ask?": the user's earlier questions in the conversation it was given, answered without tools.</summary>
    private static ChatMessage Recall(IList<ChatMessage> messages)
    {
        var earlier = new StringBuilder();
        for (var i = 0; i < messages.Count - 1; i++)
        {
            if (messages[i].Role == ChatRole.User)
            {
                earlier.Append(" \"").Append(messages[i].Text).Append('"');
            }
        }

        return new ChatMessage(ChatRole.Assistant, earlier.Length == 0 ? NothingEarlier : EarlierPrefix + earlier);
    }

    /// <summary>The answer step: written from the tool results that follow the last user message.</summary>
    private static ChatMessage Answer(IList<ChatMessage> messages)
    {
        var results = new List<string>();
        for (var i = messages.Count - 1; i >= 0 && messages[i].Role != ChatRole.User; i--)
        {
            foreach (var result in messages[i].Contents.OfType<FunctionResultContent>())
            {
                results.Add(Convert.ToString(result.Result, CultureInfo.InvariantCulture) ?? string.Empty);
            }
        }

        results.Reverse();
        var answer = new StringBuilder();
        answer.Append(results.Count == 1 ? "Here is what I found: " : "Here is what I found:");
        if (results.Count == 1)
        {
            answer.Append(results[0]);
        }
        else
        {
            foreach (var result in results)
            {
                answer.Append(' ').Append(result);
            }
        }

        return new ChatMessage(ChatRole.Assistant, answer.ToString());
    }

    private static string CityIn(string text)
    {
        var index = text.IndexOf(" in ", StringComparison.OrdinalIgnoreCase);
        if (index < 0)
        {
            return "Paris";
        }

        var city = new string(text[(index + 4)..].TakeWhile(char.IsLetter).ToArray());
        return city.Length == 0 ? "Paris" : city;
    }
}
