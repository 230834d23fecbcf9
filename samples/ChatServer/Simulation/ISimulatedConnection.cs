namespace ChatServer.Simulation;

/// <summary>One simulated browser tab, on either transport (<c>--transport websocket</c> or <c>signalr</c>).</summary>
internal interface ISimulatedConnection : IAsyncDisposable
{
    /// <summary>Gets the tab's name in reports: <c>user/role#n</c>.</summary>
    string Name { get; }

    /// <summary>Gets the index of the node the tab is connected to (0 on one node).</summary>
    int Node { get; }

    /// <summary>Gets or sets a value indicating whether the tab waits 100 ms after each event it reads: a slow client.</summary>
    bool Slow { get; set; }

    /// <summary>Connects and waits for the server's <c>ready</c> event, so no event of this user can miss the connection.</summary>
    Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Sends a client message of the WebSocket protocol (<c>docs/sample.md</c>); over SignalR it becomes the hub call it stands for.</summary>
    Task SendAsync(string json, CancellationToken cancellationToken);

    /// <summary>Drops the connection without a close handshake: a tab closed, a network gone.</summary>
    void Vanish();

    /// <summary>Closes the connection gracefully and waits until it has stopped reading.</summary>
    Task CloseAsync();
}
