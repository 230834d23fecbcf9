using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Isolation.AgentFramework.Internal;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Isolation.AgentFramework;

/// <summary>
/// An <see cref="AIAgent"/> decorator that runs every <c>RunAsync</c> and <c>RunStreamingAsync</c> inside the current
/// <see cref="IsolationScope"/>: the session must belong to that scope (another user's session, or one kept after its
/// scope ended, is a violation), runs on one conversation take turns (<see cref="IsolatedAIAgentOptions.ConcurrentRuns"/>),
/// streamed updates and tool calls become events of the scope (so they reach only that user's connections), and the
/// framework's <c>invoke_agent</c> span gets <c>gen_ai.conversation.id</c>, <c>gen_ai.agent.name</c> and <c>isolation.*</c>
/// attributes. Prompt and answer text are never put on a span.
/// </summary>
/// <remarks>
/// The decorated agent stays stateless and shareable (a singleton is fine): all per-user state is in the session and the
/// ambient scope. Runs outside a scope throw <see cref="InvalidOperationException"/>. Place it inside
/// <c>UseOpenTelemetry()</c> (<c>builder.UseOpenTelemetry().UseIsolation()</c>) so that its span is the one enriched;
/// without it, the scope's own span is.
/// </remarks>
/// <example>
/// <code>
/// AIAgent agent = new ChatClientAgent(chatClient, instructions: "…", name: "support")
///     .AsBuilder().UseOpenTelemetry().UseIsolation().Build();
/// </code>
/// </example>
public sealed class IsolatedAIAgent : DelegatingAIAgent
{
    private const string OperationNameTag = "gen_ai.operation.name";

    private readonly ConcurrentRunBehavior _concurrentRuns;
    private readonly bool _emitUpdates;

    /// <summary>Initializes a new instance of the <see cref="IsolatedAIAgent"/> class with default options.</summary>
    /// <param name="innerAgent">The agent to run.</param>
    public IsolatedAIAgent(AIAgent innerAgent)
        : this(innerAgent, new IsolatedAIAgentOptions())
    {
    }

    /// <summary>Initializes a new instance of the <see cref="IsolatedAIAgent"/> class.</summary>
    /// <param name="innerAgent">The agent to run.</param>
    /// <param name="options">How concurrent runs and streamed updates are handled.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="IsolatedAIAgentOptions.ConcurrentRuns"/> is not a defined value.</exception>
    public IsolatedAIAgent(AIAgent innerAgent, IsolatedAIAgentOptions options)
        : base(Guard.NotNull(innerAgent))
    {
        Guard.NotNull(options);
        if (options.ConcurrentRuns is not (ConcurrentRunBehavior.Queue or ConcurrentRunBehavior.Reject))
        {
            throw new ArgumentOutOfRangeException(
                nameof(options),
                options.ConcurrentRuns,
                "IsolatedAIAgentOptions.ConcurrentRuns must be ConcurrentRunBehavior.Queue or ConcurrentRunBehavior.Reject.");
        }

        _concurrentRuns = options.ConcurrentRuns;
        _emitUpdates = options.EmitUpdates;
    }

    /// <inheritdoc />
    protected override async ValueTask<AgentSession> CreateSessionCoreAsync(CancellationToken cancellationToken)
    {
        var session = await base.CreateSessionCoreAsync(cancellationToken).ConfigureAwait(false);
        BindToCurrentScope(session);
        return session;
    }

    /// <inheritdoc />
    protected override async ValueTask<AgentSession> DeserializeSessionCoreAsync(JsonElement serializedState, JsonSerializerOptions? jsonSerializerOptions, CancellationToken cancellationToken)
    {
        var session = await base.DeserializeSessionCoreAsync(serializedState, jsonSerializerOptions, cancellationToken).ConfigureAwait(false);
        BindToCurrentScope(session);
        return session;
    }

    /// <inheritdoc />
    protected override async Task<AgentResponse> RunCoreAsync(IEnumerable<ChatMessage> messages, AgentSession? session, AgentRunOptions? options, CancellationToken cancellationToken)
    {
        var scope = ScopeRequirement.Current(nameof(IsolatedAIAgent), "RunAsync");
        var binding = session is null ? null : SessionBindings.Check(session, scope);
        var turn = await EnterAsync(scope, binding, cancellationToken).ConfigureAwait(false);
        try
        {
            Enrich(scope, binding);
            var response = await InnerAgent.RunAsync(messages, session, options, cancellationToken).ConfigureAwait(false);
            await EmitToolEventsAsync(scope, response.Messages, cancellationToken).ConfigureAwait(false);
            return response;
        }
        finally
        {
            turn.Exit();
        }
    }

    /// <inheritdoc />
    protected override async IAsyncEnumerable<AgentResponseUpdate> RunCoreStreamingAsync(
        IEnumerable<ChatMessage> messages,
        AgentSession? session,
        AgentRunOptions? options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var scope = ScopeRequirement.Current(nameof(IsolatedAIAgent), "RunStreamingAsync");
        var binding = session is null ? null : SessionBindings.Check(session, scope);
        var turn = await EnterAsync(scope, binding, cancellationToken).ConfigureAwait(false);
        try
        {
            Enrich(scope, binding);
            Dictionary<string, string>? toolNames = null;
            await foreach (var update in InnerAgent.RunStreamingAsync(messages, session, options, cancellationToken).ConfigureAwait(false))
            {
                toolNames = await EmitUpdateAsync(scope, update, toolNames, cancellationToken).ConfigureAwait(false);
                yield return update;
            }
        }
        finally
        {
            turn.Exit();
        }
    }

    private static void BindToCurrentScope(AgentSession session)
    {
        var scope = IsolationScope.Current;
        if (scope is not null)
        {
            SessionBindings.Bind(session, scope, gates: null, conversation: null, sessionId: null);
        }
    }

    private async ValueTask<Turn> EnterAsync(IsolationScope scope, SessionBinding? binding, CancellationToken cancellationToken)
    {
        if (binding is null)
        {
            return default;
        }

        ConversationGates.Gate? gate = null;
        SemaphoreSlim semaphore;
        if (binding is { Gates: { } gates, Conversation: { } conversation })
        {
            gate = gates.Rent(conversation);
            semaphore = gate.Semaphore;
        }
        else
        {
            semaphore = binding.LocalGate;
        }

        try
        {
            if (!semaphore.Wait(0, CancellationToken.None))
            {
                if (_concurrentRuns == ConcurrentRunBehavior.Reject)
                {
                    var which = binding.SessionId is null ? "a conversation not stored yet" : "conversation '" + binding.SessionId + "'";
                    scope.ReportViolation(new IsolationViolation(
                        ViolationKind.ConcurrentUse,
                        SessionBindings.ResourceType,
                        $"Run {scope.Context.RunId} of user '{scope.Context.UserId}' started on {which} while another run on it is in progress; two runs at once would interleave its history. " +
                        "Wait for the first run to finish, or set IsolatedAIAgentOptions.ConcurrentRuns to Queue.",
                        scope.Context));
                }

                await semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            gate?.Return();
            throw;
        }

        return new Turn(semaphore, gate);
    }

    private void Enrich(IsolationScope scope, SessionBinding? binding)
    {
        var activity = Activity.Current;
        if (activity is null || !activity.IsAllDataRequested)
        {
            return;
        }

        // OpenTelemetryAgent names its span "invoke_agent <agent>" (display name) and tags gen_ai.operation.name; its operation name is not stable.
        var isAgentSpan = activity.DisplayName.StartsWith(AgentFrameworkTelemetry.InvokeAgentOperation, StringComparison.Ordinal)
            || string.Equals(activity.GetTagItem(OperationNameTag) as string, AgentFrameworkTelemetry.InvokeAgentOperation, StringComparison.Ordinal);
        var isScopeSpan = string.Equals(activity.Source.Name, IsolationTelemetry.ActivitySourceName, StringComparison.Ordinal);
        if (!isAgentSpan && !isScopeSpan)
        {
            return;
        }

        if (binding?.SessionId is { } sessionId && activity.GetTagItem(AgentFrameworkTelemetry.ConversationIdTag) is null)
        {
            activity.SetTag(AgentFrameworkTelemetry.ConversationIdTag, sessionId);
        }

        if (Name is { } name && activity.GetTagItem(AgentFrameworkTelemetry.AgentNameTag) is null)
        {
            activity.SetTag(AgentFrameworkTelemetry.AgentNameTag, name);
        }

        if (isAgentSpan)
        {
            activity.SetTag(IsolationTelemetry.RunIdTag, scope.Context.RunId);
            activity.SetTag(IsolationTelemetry.ModeTag, ModeName(scope.Mode));
        }
    }

    private static string ModeName(IsolationMode mode) => mode switch
    {
        IsolationMode.Off => "off",
        IsolationMode.Observe => "observe",
        _ => "enforce",
    };

    private async ValueTask<Dictionary<string, string>?> EmitUpdateAsync(
        IsolationScope scope,
        AgentResponseUpdate update,
        Dictionary<string, string>? toolNames,
        CancellationToken cancellationToken)
    {
        var contents = update.Contents;
        for (var i = 0; i < contents.Count; i++)
        {
            switch (contents[i])
            {
                case TextContent text when _emitUpdates && !string.IsNullOrEmpty(text.Text):
                    await scope.Events.EmitAsync(AgentFrameworkEventTypes.AgentUpdate, new AgentUpdatePayload(text.Text, update.MessageId), cancellationToken).ConfigureAwait(false);
                    break;
                case FunctionCallContent call:
                    (toolNames ??= new Dictionary<string, string>(StringComparer.Ordinal))[call.CallId] = call.Name;
                    await scope.Events.EmitAsync(AgentEventTypes.ToolExecuting, new ToolEventPayload(call.Name, call.CallId), cancellationToken).ConfigureAwait(false);
                    break;
                case FunctionResultContent result:
                    string? tool = null;
                    toolNames?.TryGetValue(result.CallId, out tool);
                    await scope.Events.EmitAsync(AgentEventTypes.ToolCompleted, new ToolEventPayload(tool, result.CallId), cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        return toolNames;
    }

    private static async ValueTask EmitToolEventsAsync(IsolationScope scope, IList<ChatMessage> messages, CancellationToken cancellationToken)
    {
        Dictionary<string, string>? toolNames = null;
        for (var m = 0; m < messages.Count; m++)
        {
            var contents = messages[m].Contents;
            for (var i = 0; i < contents.Count; i++)
            {
                switch (contents[i])
                {
                    case FunctionCallContent call:
                        (toolNames ??= new Dictionary<string, string>(StringComparer.Ordinal))[call.CallId] = call.Name;
                        await scope.Events.EmitAsync(AgentEventTypes.ToolExecuting, new ToolEventPayload(call.Name, call.CallId), cancellationToken).ConfigureAwait(false);
                        break;
                    case FunctionResultContent result:
                        string? tool = null;
                        toolNames?.TryGetValue(result.CallId, out tool);
                        await scope.Events.EmitAsync(AgentEventTypes.ToolCompleted, new ToolEventPayload(tool, result.CallId), cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
        }
    }

    private readonly struct Turn(SemaphoreSlim? semaphore, ConversationGates.Gate? gate)
    {
        public void Exit()
        {
            semaphore?.Release();
            gate?.Return();
        }
    }
}
