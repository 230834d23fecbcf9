using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Isolation.AgentFramework.Tests.Support;

/// <summary>
/// A deterministic, offline model. It answers <c>answer to '&lt;last user text&gt;' after N user messages</c>, streamed
/// word by word; a user message starting with <c>tool:</c> first makes it call the <c>lookup</c> tool. It records every
/// user text it was shown, so a test can prove which history a run saw.
/// </summary>
internal sealed class ScriptedChatClient : IChatClient
{
    private int _calls;

    /// <summary>Gets every user text the model was shown (history included), per call.</summary>
    public ConcurrentQueue<string[]> Seen { get; } = new();

    /// <summary>Gets or sets a hook awaited before each answer (to hold a run in progress).</summary>
    public Func<IEnumerable<ChatMessage>, Task>? BeforeAnswer { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? messages.ToList();
        Interlocked.Increment(ref _calls);
        if (BeforeAnswer is { } hook)
        {
            await hook(list);
        }

        return new ChatResponse(Answer(list, options)) { ResponseId = "r" + _calls };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        var message = response.Messages[0];
        var messageId = "m" + Calls;
        foreach (var content in message.Contents)
        {
            if (content is TextContent text)
            {
                var words = text.Text.Split(' ');
                for (var i = 0; i < words.Length; i++)
                {
                    yield return new ChatResponseUpdate(ChatRole.Assistant, i == 0 ? words[i] : " " + words[i]) { MessageId = messageId };
                }
            }
            else
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, [content]) { MessageId = messageId };
            }
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private ChatMessage Answer(IList<ChatMessage> messages, ChatOptions? options)
    {
        var userTexts = messages.Where(m => m.Role == ChatRole.User).Select(m => m.Text).ToArray();
        Seen.Enqueue(userTexts);
        var last = messages[^1];
        if (last.Role == ChatRole.User && last.Text.StartsWith("tool:", StringComparison.Ordinal) && options?.Tools is { Count: > 0 })
        {
            return new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call-" + Calls, "lookup", new Dictionary<string, object?> { ["query"] = last.Text[5..] })]);
        }

        var lastUser = userTexts.Length == 0 ? string.Empty : userTexts[^1];
        return new ChatMessage(ChatRole.Assistant, $"answer to '{lastUser}' after {userTexts.Length} user messages");
    }
}
