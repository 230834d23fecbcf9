namespace Isolation;

/// <summary>What a connection's outbound event queue does when it is full because the client reads slower than its events arrive.</summary>
public enum EventQueueFullMode
{
    /// <summary>Drop the oldest queued event to make room for the new one: the client sees the latest state, with a gap in the sequence.</summary>
    DropOldest = 0,

    /// <summary>Drop the new event and keep the queued ones: the client sees the earliest events, and misses the latest.</summary>
    DropNewest = 1,

    /// <summary>Abort the connection and drop everything queued: a client that cannot keep up reconnects and resynchronizes.</summary>
    CloseConnection = 2,
}
