using Isolation;
using Microsoft.Extensions.AI;

namespace ChatServer.Agents;

/// <summary>
/// Invokes the tools for function invocation (<see cref="FunctionInvokingChatClient.FunctionInvoker"/>): each call gets the
/// run's scope services (<see cref="AIFunctionArguments.Services"/>), and the first tool call of a run carries out the
/// fault its message asks for, when <c>Chat:FaultInjection</c> is on.
/// </summary>
internal sealed class ToolInvoker(bool faultInjection, TimeSpan stuckFor)
{
    public async ValueTask<object?> InvokeAsync(FunctionInvocationContext context, CancellationToken cancellationToken)
    {
        var scope = IsolationScope.Current ?? throw new InvalidOperationException(
            $"Tool '{context.Function.Name}' was called outside an IsolationScope: run the agent inside IIsolatedRunner.RunAsync, so the tool gets the run's services.");
        context.Arguments.Services = scope.Services;
        if (faultInjection && context.FunctionCallIndex == 0 && IsFirstToolRound(context.Messages, out var request))
        {
            await InjectedFaults.ApplyAsync(InjectedFaults.Parse(request), scope, stuckFor, cancellationToken);
        }

        return await context.Function.InvokeAsync(context.Arguments, cancellationToken);
    }

    /// <summary>True when no tool has answered since the last user message (this run's), which it returns.</summary>
    private static bool IsFirstToolRound(IList<ChatMessage> messages, out string request)
    {
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (messages[i].Role == ChatRole.Tool)
            {
                break;
            }

            if (messages[i].Role == ChatRole.User)
            {
                request = messages[i].Text;
                return true;
            }
        }

        request = string.Empty;
        return false;
    }
}
