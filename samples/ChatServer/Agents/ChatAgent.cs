using System.Globalization;
using ChatServer.Data;
using Isolation;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace ChatServer.Agents;

/// <summary>
/// One chat turn, triage → tool calls → answer, for one run. A new instance per run (<c>scope.GetAgent&lt;ChatAgent&gt;()</c>):
/// the conversation it builds is this run's alone. The model (<see cref="IChatClient"/>) and the tool declarations are
/// shared, as they are designed to be; the history comes from the database through the scope's session guard, and every
/// event goes out through <c>scope.Events</c>, stamped with this run's user.
/// </summary>
public sealed class ChatAgent : IsolatedAgent
{
    private const int HistoryLimit = 12;
    private const int MaxToolRounds = 3;
    private const string SystemPrompt = "You are the help-desk assistant. Use the tools to answer; keep answers short.";

    private readonly IsolationScope _scope;
    private readonly IChatClient _model;
    private readonly ChatTools _tools;
    private readonly ChatServerOptions _options;
    private readonly TimeSpan _stuckFor;
    private readonly List<ChatMessage> _conversation = [];

    public ChatAgent(IsolationScope scope, IChatClient model, ChatTools tools, IOptions<ChatServerOptions> options, IOptions<IsolatedRunnerOptions> runner)
    {
        _scope = scope;
        _model = model;
        _tools = tools;
        _options = options.Value;
        _stuckFor = runner.Value.DefaultDeadline + TimeSpan.FromMilliseconds(500);
    }

    /// <summary>Answers <paramref name="text"/>; the answer is sent as an <c>answer</c> event and stored in the thread's history.</summary>
    public async Task<string> RunAsync(string text, CancellationToken cancellationToken)
    {
        EnsureOwned();
        var events = _scope.Events;
        var fault = _options.FaultInjection ? InjectedFaults.Parse(text) : InjectedFault.None;

        await events.EmitAsync(AgentEventTypes.AgentThinking, new ThinkingPayload("triage"), cancellationToken);
        var history = await ChatStore.AppendAndLoadAsync(_scope, "user", text, HistoryLimit, cancellationToken);
        _conversation.Add(new ChatMessage(ChatRole.System, SystemPrompt));
        foreach (var row in history)
        {
            _conversation.Add(new ChatMessage(row.Role == "assistant" ? ChatRole.Assistant : ChatRole.User, row.Text));
        }

        var chatOptions = new ChatOptions { Tools = _tools.All, ToolMode = ChatToolMode.Auto };
        var response = await _model.GetResponseAsync(_conversation, chatOptions, cancellationToken);
        for (var round = 0; round < MaxToolRounds; round++)
        {
            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            if (calls.Count == 0)
            {
                break;
            }

            _conversation.AddRange(response.Messages);
            foreach (var call in calls)
            {
                var result = await CallToolAsync(call, fault, cancellationToken);
                fault = InjectedFault.None;
                _conversation.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, result)]));
            }

            await events.EmitAsync(AgentEventTypes.AgentThinking, new ThinkingPayload("answer"), cancellationToken);
            response = await _model.GetResponseAsync(_conversation, chatOptions, cancellationToken);
        }

        var answer = response.Text;
        await ChatStore.AppendAsync(_scope, "assistant", answer, cancellationToken);
        await events.EmitAsync(ChatEventTypes.Answer, new AnswerPayload(answer), cancellationToken);
        return answer;
    }

    private async Task<string> CallToolAsync(FunctionCallContent call, InjectedFault fault, CancellationToken cancellationToken)
    {
        var arguments = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (call.Arguments is not null)
        {
            foreach (var (name, value) in call.Arguments)
            {
                arguments[name] = Convert.ToString(value, CultureInfo.InvariantCulture);
            }
        }

        await _scope.Events.EmitAsync(AgentEventTypes.ToolExecuting, new ToolExecutingPayload(call.Name, arguments), cancellationToken);
        var tool = _tools.Find(call.Name) ?? throw new InvalidOperationException(
            $"The model asked for tool '{call.Name}', which the agent does not offer. Offered: {string.Join(", ", _tools.All.Select(t => t.Name))}.");
        await InjectedFaults.ApplyAsync(fault, _scope, _stuckFor, cancellationToken);
        var result = await tool.InvokeAsync(new AIFunctionArguments(call.Arguments) { Services = _scope.Services }, cancellationToken);
        var text = result is System.Text.Json.JsonElement json && json.ValueKind == System.Text.Json.JsonValueKind.String
            ? json.GetString() ?? string.Empty
            : Convert.ToString(result, CultureInfo.InvariantCulture) ?? string.Empty;
        await _scope.Events.EmitAsync(AgentEventTypes.ToolCompleted, new ToolCompletedPayload(call.Name, text), cancellationToken);
        return text;
    }
}
