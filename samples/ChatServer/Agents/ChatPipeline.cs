using Isolation;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace ChatServer.Agents;

/// <summary>
/// The help-desk agent, built once and shared by every run: a Microsoft Agent Framework <see cref="ChatClientAgent"/> over the
/// model (<see cref="IChatClient"/>), decorated by Isolation's <see cref="Isolation.AgentFramework.IsolatedAIAgent"/>, and the
/// owner-checked store its conversations are loaded from and saved to. The agent holds no conversation: each run loads its
/// own <see cref="AgentSession"/> from <see cref="Sessions"/>, inside the run's scope.
/// </summary>
/// <remarks>
/// The model pipeline, outermost first: function invocation (the tools, run through <see cref="ToolInvoker"/>), then
/// <see cref="StepEventsChatClient"/> (one <c>agent_thinking</c> event per model call), then the model itself. The decorator
/// sends <c>tool_executing</c> / <c>tool_completed</c> as the streamed run calls the tools.
/// </remarks>
public sealed class ChatPipeline
{
    public const string AgentName = "help-desk";
    public const string Instructions = "You are the help-desk assistant. Use the tools to answer; keep answers short.";

    /// <summary>Model calls per run at most: triage, then up to two more rounds of tools, the last one answering.</summary>
    public const int MaxModelCalls = 3;

    public ChatPipeline(
        IChatClient model,
        ChatTools tools,
        AgentSessionStore sessions,
        IOptions<ChatServerOptions> options,
        IOptions<IsolatedRunnerOptions> runner)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tools);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(runner);
        var invoker = new ToolInvoker(options.Value.FaultInjection, runner.Value.DefaultDeadline + TimeSpan.FromMilliseconds(500));
        var client = model.AsBuilder()
            .UseFunctionInvocation(configure: f =>
            {
                // A tool that throws ends the run (failed), as before: no retry loop around an injected failure.
                f.MaximumConsecutiveErrorsPerRequest = 0;
                f.MaximumIterationsPerRequest = MaxModelCalls;
                f.FunctionInvoker = invoker.InvokeAsync;
            })
            .Use(inner => new StepEventsChatClient(inner))
            .Build();

        History = new InMemoryChatHistoryProvider();
        var chatAgent = new ChatClientAgent(client, new ChatClientAgentOptions
        {
            Name = AgentName,
            ChatOptions = new ChatOptions { Instructions = Instructions, Tools = tools.All, ToolMode = ChatToolMode.Auto },
            ChatHistoryProvider = History,
            UseProvidedChatClientAsIs = true,
        });

        // The answer goes out as one `answer` event after the run; streamed text pieces are not sent on their own.
        Agent = chatAgent.AsBuilder().UseIsolation(o => o.EmitUpdates = false).Build();
        Sessions = sessions ?? throw new ArgumentNullException(nameof(sessions));
    }

    /// <summary>Gets the agent every run uses: the <see cref="ChatClientAgent"/> behind <see cref="Isolation.AgentFramework.IsolatedAIAgent"/>.</summary>
    public AIAgent Agent { get; }

    /// <summary>Gets where conversations are kept: <see cref="Isolation.AgentFramework.OwnerCheckedAgentSessionStore"/> over the sample's database.</summary>
    public AgentSessionStore Sessions { get; }

    /// <summary>Gets the provider that keeps a conversation's messages inside its session (and so in the store).</summary>
    public InMemoryChatHistoryProvider History { get; }

    /// <summary>
    /// Returns the user and assistant messages of a conversation of the current scope's user, oldest first; an unknown id and
    /// another user's conversation both give an empty list (the second is refused, reported and counted by the store).
    /// </summary>
    public async Task<IReadOnlyList<ChatMessage>> LoadHistoryAsync(string conversationId, CancellationToken cancellationToken)
    {
        AgentSession? session;
        try
        {
            session = await Sessions.GetSessionAsync(Agent, new AgentSessionStoreKey(conversationId), cancellationToken);
        }
        catch (IsolationViolationException)
        {
            // Enforce: the store threw after reporting; the caller is answered exactly as for an id that does not exist.
            session = null;
        }

        if (session is null)
        {
            return [];
        }

        var messages = new List<ChatMessage>();
        foreach (var message in History.GetMessages(session))
        {
            if ((message.Role == ChatRole.User || message.Role == ChatRole.Assistant) && !string.IsNullOrEmpty(message.Text))
            {
                messages.Add(message);
            }
        }

        return messages;
    }
}
