namespace ChatServer.Simulation;

/// <summary>
/// The options of <c>simulate</c>. <see cref="SimulateCommand"/> defines them on the command line (names, help, validation);
/// the defaults here are the ones a run without options uses.
/// </summary>
public sealed record SimulationOptions
{
    public const int DefaultUsers = 100;
    public const int RunsPerUserByDefault = 10;
    public const double DefaultFailureRate = 0.1;
    public const int DefaultSeed = 1;
    public const int MaxUsers = 2000;
    public const int MaxRuns = 100_000;
    public const int DefaultAttackers = 3;
    public const int MaxNodes = 5;

    public int Users { get; init; } = DefaultUsers;

    public int Runs { get; init; } = DefaultRunsFor(DefaultUsers);

    public double FailureRate { get; init; } = DefaultFailureRate;

    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Gets how many users also try another user's conversation id (load it, then continue it); at most <see cref="Users"/>, 0 with one user.</summary>
    public int Attackers { get; init; } = DefaultAttackers;
    /// <summary>Gets how the simulated users connect.</summary>
    public SimulationTransport Transport { get; init; } = SimulationTransport.WebSocket;

    /// <summary>Gets how many server nodes run (more than one needs <see cref="Redis"/>).</summary>
    public int Nodes { get; init; } = 1;

    /// <summary>Gets the Redis configuration the nodes share; <see langword="null"/> means <c>ISOLATION_TEST_REDIS</c>, if set.</summary>
    public string? Redis { get; init; }

    /// <summary>The number of runs when <c>--runs</c> is not given: ten per user, at most <see cref="MaxRuns"/>.</summary>
    public static int DefaultRunsFor(int users) => Math.Min(MaxRuns, users * RunsPerUserByDefault);

    /// <summary>The number of attackers when <c>--attackers</c> is not given: <see cref="DefaultAttackers"/>, at most every user, none with one user.</summary>
    public static int DefaultAttackersFor(int users) => users >= 2 ? Math.Min(DefaultAttackers, users) : 0;
}

/// <summary>How simulated users connect to the chat server.</summary>
public enum SimulationTransport
{
    /// <summary>The sample's WebSocket protocol on <c>/ws</c>.</summary>
    WebSocket,

    /// <summary>SignalR on <c>/hub/chat</c>, through <c>Microsoft.AspNetCore.SignalR.Client</c>.</summary>
    SignalR,
}
