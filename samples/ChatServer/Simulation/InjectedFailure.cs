namespace ChatServer.Simulation;

/// <summary>What the simulator does to one run. Server-side faults travel as markers in the message; client faults are the client's behaviour.</summary>
public enum InjectedFailure
{
    None,
    Exception,
    DatabaseError,
    Hang,
    Stuck,
    SlowClient,
    VanishingClient,
}
