using System.Runtime.CompilerServices;
using Isolation;
using Microsoft.Extensions.AI;

namespace ChatServer.Agents;

/// <summary>
/// Sends <c>agent_thinking</c> before each model call of a run, through the run's scope: step <c>triage</c> for the call on
/// the user's message, <c>answer</c> for a call on tool results. Sits under function invocation, so it sees every call.
/// </summary>
internal sealed class StepEventsChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? messages.ToList();
        await EmitAsync(list, cancellationToken);
        return await base.GetResponseAsync(list, options, cancellationToken);
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? messages.ToList();
        await EmitAsync(list, cancellationToken);
        await foreach (var update in base.GetStreamingResponseAsync(list, options, cancellationToken))
        {
            yield return update;
        }
    }

    private static ValueTask EmitAsync(IList<ChatMessage> messages, CancellationToken cancellationToken)
    {
        var scope = IsolationScope.Current ?? throw new InvalidOperationException(
            "The chat model was called outside an IsolationScope: run the agent inside IIsolatedRunner.RunAsync, so its events have a user.");
        var step = messages.Count > 0 && messages[^1].Role == ChatRole.Tool ? "answer" : "triage";
        return scope.Events.EmitAsync(AgentEventTypes.AgentThinking, new ThinkingPayload(step), cancellationToken);
    }
}
