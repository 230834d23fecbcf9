using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Isolation.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR;

namespace Isolation.AspNetCore.Tests.SignalR;

/// <summary>What the hubs saw on the server: the scopes of invocations, and gates that hold streams open.</summary>
public sealed class HubProbe
{
    public ConcurrentQueue<IsolationScope> Scopes { get; } = new();

    public TaskCompletionSource StreamGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentDictionary<string, Task<RunResult>> Runs { get; } = new();
}

public sealed class ProbeAgent : IsolatedAgent
{
    public string Owner()
    {
        EnsureOwned();
        return OwnerScope?.Context.UserId ?? "none";
    }
}

public sealed class ChatHub(IIsolatedRunner runner, HubProbe probe) : Hub
{
    public string WhoAmI()
    {
        var scope = IsolationScope.Current!;
        probe.Scopes.Enqueue(scope);
        return scope.Context.UserId + "|" + scope.Context.ConnectionId + "|" + (scope.Context.ConnectionId == Context.ConnectionId);
    }

    public string Ask(int steps) => Track(runner.StartRun(Context, async (scope, ct) =>
    {
        for (var i = 0; i < steps; i++)
        {
            await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, i, ct);
        }
    }));

    public string AskFailing() => Track(runner.StartRun(Context, async (scope, ct) =>
    {
        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, 0, ct);
        throw new InvalidOperationException("the model broke");
    }));

    public string AskHanging() => Track(runner.StartRun(
        Context,
        async (scope, ct) =>
        {
            await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, 0, ct);
            await new TaskCompletionSource().Task; // never completes and ignores the token
        },
        new RunOptions { Deadline = TimeSpan.FromMilliseconds(300) }));

    public string Flood(int count, int payloadSize) => Track(runner.StartRun(Context, async (scope, ct) =>
    {
        var payload = new string('x', payloadSize);
        for (var i = 0; i < count; i++)
        {
            await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, payload, ct);
        }
    }));

    public void Throw()
    {
        probe.Scopes.Enqueue(IsolationScope.Current!);
        throw new InvalidOperationException("hub method failed");
    }

    public async IAsyncEnumerable<string> Count(int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var scope = IsolationScope.Current!;
        probe.Scopes.Enqueue(scope);
        for (var i = 0; i < count; i++)
        {
            if (i == 1)
            {
                await probe.StreamGate.Task.WaitAsync(cancellationToken);
            }

            yield return $"{IsolationScope.Current?.Context.UserId}:{ReferenceEquals(IsolationScope.Current, scope)}:{scope.IsDisposed}";
        }
    }

    public ChannelReader<string> CountChannel(int count, CancellationToken cancellationToken)
    {
        var scope = IsolationScope.Current!;
        probe.Scopes.Enqueue(scope);
        var channel = Channel.CreateUnbounded<string>();
        _ = Task.Run(
            async () =>
            {
                try
                {
                    for (var i = 0; i < count; i++)
                    {
                        if (i == 1)
                        {
                            await probe.StreamGate.Task.WaitAsync(cancellationToken);
                        }

                        await channel.Writer.WriteAsync($"{IsolationScope.Current?.Context.UserId}:{ReferenceEquals(IsolationScope.Current, scope)}:{scope.IsDisposed}", cancellationToken);
                    }

                    channel.Writer.Complete();
                }
                catch (Exception ex)
                {
                    channel.Writer.TryComplete(ex);
                }
            },
            CancellationToken.None);
        return channel.Reader;
    }

    private string Track(HubRun run)
    {
        probe.Runs[run.RunId] = run.Completion;
        return run.RunId;
    }
}

/// <summary>The bug the filter exists to catch at run time: an agent kept in a static, reused by the next user's call.</summary>
public sealed class RetainingHub : Hub
{
#pragma warning disable CA2211 // The point of the test.
    public static ProbeAgent? Kept;
#pragma warning restore CA2211

    public string Owner()
    {
        Kept ??= IsolationScope.Current!.GetAgent<ProbeAgent>();
        return Kept.Owner();
    }
}

/// <summary>
/// The same bug in another shape: the agent kept as a plain object in a mutable static of the hub, the next user's call
/// casts it back. The analyzers report this one as ISO005 (mutable static state in a hub), <see cref="RetainingHub"/> as ISO002.
/// </summary>
public sealed class ObjectRetainingHub : Hub
{
#pragma warning disable CA2211 // The point of the test.
    public static object? Last;
#pragma warning restore CA2211

    public string Owner()
    {
        Last ??= IsolationScope.Current!.GetAgent<ProbeAgent>();
        return ((ProbeAgent)Last).Owner();
    }
}
