using System.Text.Json;
using Isolation.AgentFramework.Internal;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Isolation.AgentFramework;

/// <summary>
/// Semantic Kernel conversations (<see cref="ChatHistory"/>) kept per conversation id and owned by the user who saved
/// them first, checked like <see cref="OwnerCheckedAgentSessionStore"/>: a load or save of another user's conversation is
/// a <see cref="ViolationKind.CrossScopeAccess"/>, reported and answered as "not found" in <see cref="IsolationMode.Observe"/>,
/// thrown in <see cref="IsolationMode.Enforce"/>, not checked in <see cref="IsolationMode.Off"/>. In memory; each load returns
/// an independent copy, so no two runs share a <see cref="ChatHistory"/> instance.
/// </summary>
/// <remarks>Every call needs an ambient <see cref="IsolationScope"/>; outside one it throws <see cref="InvalidOperationException"/>.</remarks>
public sealed class OwnerCheckedChatHistoryStore
{
    private const string ResourceType = "Microsoft.SemanticKernel.ChatCompletion.ChatHistory";

    private readonly Dictionary<string, (string Owner, string Json)> _histories = new(StringComparer.Ordinal);

    /// <summary>Gets the number of stored conversations.</summary>
    public int Count
    {
        get
        {
            lock (_histories)
            {
                return _histories.Count;
            }
        }
    }

    /// <summary>Returns a copy of the stored conversation, or <see langword="null"/> when there is none or it is another user's (reported).</summary>
    /// <param name="conversationId">The conversation id, typically from the client.</param>
    /// <returns>The conversation, or <see langword="null"/>.</returns>
    /// <exception cref="IsolationViolationException">In <see cref="IsolationMode.Enforce"/>, when the conversation is another user's.</exception>
    public ChatHistory? Get(string conversationId)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationId);
        var scope = ScopeRequirement.Current(nameof(OwnerCheckedChatHistoryStore), nameof(Get));
        (string Owner, string Json) entry;
        lock (_histories)
        {
            if (!_histories.TryGetValue(conversationId, out entry))
            {
                return null;
            }
        }

        if (scope.Mode != IsolationMode.Off && !string.Equals(entry.Owner, scope.Context.UserId, StringComparison.Ordinal))
        {
            Refuse(scope, conversationId, entry.Owner, "load");
            return null;
        }

        return JsonSerializer.Deserialize<ChatHistory>(entry.Json) ?? [];
    }

    /// <summary>Returns a copy of the stored conversation, or a new empty one when there is none or it is another user's (reported).</summary>
    /// <param name="conversationId">The conversation id, typically from the client.</param>
    /// <returns>The conversation.</returns>
    /// <exception cref="IsolationViolationException">In <see cref="IsolationMode.Enforce"/>, when the conversation is another user's.</exception>
    public ChatHistory GetOrCreate(string conversationId) => Get(conversationId) ?? [];

    /// <summary>Stores the conversation, recording the current user as its owner on the first save; another user's conversation is left unchanged (reported).</summary>
    /// <param name="conversationId">The conversation id.</param>
    /// <param name="history">The conversation to store (copied).</param>
    /// <exception cref="IsolationViolationException">In <see cref="IsolationMode.Enforce"/>, when the conversation is another user's.</exception>
    public void Save(string conversationId, ChatHistory history)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationId);
        Guard.NotNull(history);
        var scope = ScopeRequirement.Current(nameof(OwnerCheckedChatHistoryStore), nameof(Save));
        var user = scope.Context.UserId;
        var json = JsonSerializer.Serialize(history);
        string? foreignOwner = null;
        lock (_histories)
        {
            if (_histories.TryGetValue(conversationId, out var entry) && !string.Equals(entry.Owner, user, StringComparison.Ordinal) && scope.Mode != IsolationMode.Off)
            {
                foreignOwner = entry.Owner;
            }
            else
            {
                _histories[conversationId] = (entry.Owner ?? user, json);
            }
        }

        if (foreignOwner is not null)
        {
            Refuse(scope, conversationId, foreignOwner, "save");
        }
    }

    private static void Refuse(IsolationScope scope, string conversationId, string owner, string operation) =>
        scope.ReportViolation(new IsolationViolation(
            ViolationKind.CrossScopeAccess,
            ResourceType,
            $"Conversation '{conversationId}' belongs to another user: the {operation} by user '{scope.Context.UserId}' (run {scope.Context.RunId}) was refused and answered as not found. " +
            "A conversation id that comes from a client must be checked: only conversations this user created can be loaded or saved.",
            scope.Context,
            new UserExecutionContext(owner)));
}
