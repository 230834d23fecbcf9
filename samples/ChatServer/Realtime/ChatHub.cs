using ChatServer.Agents;
using Isolation;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ChatServer.Realtime;

/// <summary>
/// The SignalR transport, on <c>/hub/chat</c>: the same chat turns as <c>/ws</c>, with isolation from
/// <c>AddSignalR().AddIsolation()</c>. The user is the connection's authenticated user (the sample's JWT, see
/// <see cref="Auth.ChatAuthentication"/>); each connection is registered for its user's events, which arrive
/// on the client method <c>isolation</c>. A run is cancelled when the connection that started it ends; its terminal
/// event still reaches the user's other connections.
/// </summary>
public sealed class ChatHub(IIsolatedRunner runner, ConnectionRegistry connections, Auth.ChatTokenService tokens, ActiveRuns runs, IOptions<ChatServerOptions> options) : Hub
{
    /// <summary>Tells the client its connection is registered (the hub filter did that before this runs), as <c>/ws</c> does.</summary>
    public override Task OnConnectedAsync()
    {
        // Straight to this connection, without a scope: a greeting is not a run of work and does not count in the score.
        var userId = Context.UserIdentifier!;
        connections.SendToConnection(userId, Context.ConnectionId, ChatEventTypes.Ready, new ReadyPayload(userId, Context.ConnectionId));
        return Task.CompletedTask;
    }

    /// <summary>Starts a chat run and returns its id at once; its events, and exactly one terminal event, follow.</summary>
    /// <param name="text">The message, 1 to <c>Chat:MaxMessageLength</c> characters.</param>
    /// <param name="runId">The run's id (as on <c>/ws</c>), or <see langword="null"/> for one made here.</param>
    /// <param name="threadId">The conversation, or <see langword="null"/> for the user's default one (as on <c>/ws</c>).</param>
    /// <exception cref="HubException">The text or an id is invalid, or the user already has a run with that id.</exception>
    public string Chat(string text, string? runId, string? threadId)
    {
        var trimmed = text?.Trim();
        var maxLength = options.Value.MaxMessageLength;
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > maxLength)
        {
            throw new HubException($"invalid_text: a chat message needs a text of 1 to {maxLength} characters.");
        }

        if ((runId is not null && !ChatSocketHandler.IdPattern().IsMatch(runId)) || (threadId is not null && !ChatSocketHandler.IdPattern().IsMatch(threadId)))
        {
            throw new HubException("invalid_id: runId and threadId may hold 1 to 100 letters, digits, '-', '_', '.' or ':'.");
        }

        var context = new UserExecutionContext(Context.UserIdentifier!, Context.ConnectionId, runId ?? Guid.NewGuid().ToString("N"), threadId ?? tokens.DefaultConversationId(Context.UserIdentifier!));
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Context.ConnectionAborted);
        if (!runs.TryAdd(context.UserId, context.RunId, cancellation))
        {
            cancellation.Dispose();
            throw new HubException("duplicate_run: you already have a run in progress with that id.");
        }

        // Off the invocation: the method returns now; the run has its own scope and outlives the invocation's.
        _ = Task.Run(() => RunAsync(runner, runs, context, trimmed, cancellation), CancellationToken.None);
        return context.RunId;
    }

    /// <summary>Cancels one of the caller's own runs; another user's run id is unknown here.</summary>
    /// <exception cref="HubException">The caller has no run in progress with that id.</exception>
    public void Cancel(string runId)
    {
        if (runId is null || !runs.TryCancel(Context.UserIdentifier!, runId))
        {
            throw new HubException("unknown_run: you have no run in progress with that id.");
        }
    }

    private static async Task RunAsync(IIsolatedRunner runner, ActiveRuns runs, UserExecutionContext context, string text, CancellationTokenSource cancellation)
    {
        try
        {
            await runner.RunAsync(context, WorkAsync, options: null, cancellation.Token);
        }
        finally
        {
            runs.Remove(context.UserId, context.RunId);
            cancellation.Dispose();
        }

        async Task WorkAsync(IsolationScope scope, CancellationToken cancellationToken)
        {
            runs.WorkStarted();
            try
            {
                await scope.GetAgent<ChatAgent>().RunAsync(text, cancellationToken);
            }
            finally
            {
                runs.WorkEnded();
            }
        }
    }
}
