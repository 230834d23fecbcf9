namespace ChatServer.Simulation;

/// <summary>What the attacker's clients got for one <see cref="PlannedAttack"/>.</summary>
internal sealed class AttackObservation(PlannedAttack attack)
{
    public int WatchTerminals;
    public int MainTerminals;

    public PlannedAttack Attack { get; } = attack;

    /// <summary>Gets or sets a value indicating whether the attempts were made: not when the victim never stored a conversation to steal.</summary>
    public bool Made { get; set; }

    /// <summary>Gets or sets the HTTP status of the load (<c>GET /api/history</c> with the victim's conversation id).</summary>
    public int LoadStatus { get; set; }

    /// <summary>Gets or sets how many messages the load returned: each one is the victim's.</summary>
    public int LoadedMessages { get; set; }

    /// <summary>Gets or sets the <c>answer</c> text of the continue, when the run got that far.</summary>
    public string? Answer { get; set; }

    public string? TerminalStatus { get; set; }

    public TaskCompletionSource WatchTerminal { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource MainTerminal { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
