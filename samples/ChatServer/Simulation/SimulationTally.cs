using System.Collections.Concurrent;

namespace ChatServer.Simulation;

/// <summary>Counters shared by all simulated users, read by the progress line and the report.</summary>
internal sealed class SimulationTally
{
    private const int KeptExamples = 10;
    private readonly ConcurrentQueue<string> _crossUserExamples = new();
    private readonly ConcurrentQueue<string> _clientFailureExamples = new();
    private long _events;
    private long _crossUser;
    private long _protocolErrors;
    private long _clientFailures;
    private int _finished;
    private long _runEventsLocal;
    private long _runEventsCrossed;

    public long Events => Interlocked.Read(ref _events);

    public long CrossUserEvents => Interlocked.Read(ref _crossUser);

    public long ProtocolErrors => Interlocked.Read(ref _protocolErrors);

    public int Finished => Volatile.Read(ref _finished);

    public long ClientFailures => Interlocked.Read(ref _clientFailures);

    /// <summary>Gets how many run events reached a tab on the node where the run executed.</summary>
    public long RunEventsLocal => Interlocked.Read(ref _runEventsLocal);

    /// <summary>Gets how many run events reached a tab on another node than the run's (through Redis).</summary>
    public long RunEventsCrossed => Interlocked.Read(ref _runEventsCrossed);

    public IReadOnlyCollection<string> CrossUserExamples => _crossUserExamples;

    public IReadOnlyCollection<string> ClientFailureExamples => _clientFailureExamples;

    public void EventReceived() => Interlocked.Increment(ref _events);

    public void RunEventReceived(bool crossedNodes) => Interlocked.Increment(ref crossedNodes ? ref _runEventsCrossed : ref _runEventsLocal);

    public void RunFinished() => Interlocked.Increment(ref _finished);

    public void ProtocolError(string description) => Interlocked.Increment(ref _protocolErrors);

    public void ClientFailed(string description)
    {
        if (Interlocked.Increment(ref _clientFailures) <= KeptExamples)
        {
            _clientFailureExamples.Enqueue(description);
        }
    }

    public void CrossUser(string description)
    {
        if (Interlocked.Increment(ref _crossUser) <= KeptExamples)
        {
            _crossUserExamples.Enqueue(description);
        }
    }
}
