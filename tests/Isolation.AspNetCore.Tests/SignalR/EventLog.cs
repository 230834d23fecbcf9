using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR.Client;

namespace Isolation.AspNetCore.Tests.SignalR;

/// <summary>The agent events one client connection received, in arrival order.</summary>
internal sealed class EventLog
{
    private readonly ConcurrentQueue<EventEnvelope> _events = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<EventEnvelope>> _terminal = new();

    public EventLog(HubConnection connection, string method = Isolation.AspNetCore.SignalR.IsolationHubOptions.DefaultClientMethod)
    {
        connection.On<EventEnvelope>(method, envelope =>
        {
            _events.Enqueue(envelope);
            if (AgentEventTypes.IsTerminal(envelope.Type))
            {
                Terminal(envelope.RunId).TrySetResult(envelope);
            }
        });
    }

    public IReadOnlyList<EventEnvelope> Events => _events.ToArray();

    public IReadOnlyList<EventEnvelope> OfRun(string runId) => _events.Where(e => e.RunId == runId).ToArray();

    public Task<EventEnvelope> TerminalOf(string runId) => Terminal(runId).Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

    private TaskCompletionSource<EventEnvelope> Terminal(string runId) =>
        _terminal.GetOrAdd(runId, static _ => new TaskCompletionSource<EventEnvelope>(TaskCreationOptions.RunContinuationsAsynchronously));
}
