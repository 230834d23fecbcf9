using Isolation;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace ChatServer.Agents;

/// <summary>
/// One chat turn for one run: load the conversation, run the shared Agent Framework agent on it (triage → tools → answer),
/// save it, send the answer. A new instance per run (<c>scope.GetAgent&lt;ChatAgent&gt;()</c>). The conversation id is the
/// run's thread id (<see cref="UserExecutionContext.ThreadId"/>), which comes from the client: the owner-checked store
/// refuses it when it names another user's conversation, so the run fails before the model sees a word of it.
/// </summary>
public sealed class ChatAgent : IsolatedAgent
{
    private readonly IsolationScope _scope;
    private readonly ChatPipeline _pipeline;

    public ChatAgent(IsolationScope scope, ChatPipeline pipeline)
    {
        _scope = scope;
        _pipeline = pipeline;
    }

    /// <summary>Answers <paramref name="text"/> in the run's conversation; the answer is saved with it and sent as an <c>answer</c> event.</summary>
    public async Task<string> RunAsync(string text, CancellationToken cancellationToken)
    {
        EnsureOwned();
        var conversationId = _scope.Context.ThreadId ?? throw new InvalidOperationException(
            $"Run {_scope.Context.RunId} has no conversation id: set the thread id of its UserExecutionContext.");
        var agent = _pipeline.Agent;
        var store = _pipeline.Sessions;
        var key = new AgentSessionStoreKey(conversationId);

        var session = await store.GetOrCreateSessionAsync(agent, key, cancellationToken);
        var updates = new List<AgentResponseUpdate>();
        await foreach (var update in agent.RunStreamingAsync(new ChatMessage(ChatRole.User, text), session, cancellationToken: cancellationToken))
        {
            updates.Add(update);
        }

        var answer = updates.ToAgentResponse().Text;

        // Saved before the answer is sent: a client that saw the answer can count on the conversation holding it.
        await store.SaveSessionAsync(agent, key, session, cancellationToken);
        await _scope.Events.EmitAsync(ChatEventTypes.Answer, new AnswerPayload(answer), cancellationToken);
        return answer;
    }
}
