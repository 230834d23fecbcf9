namespace ChatServer.Simulation;

/// <summary>One run of the plan: whose, which id, what it says, and what is injected.</summary>
public sealed record PlannedRun(int User, string RunId, string Text, InjectedFailure Failure)
{
    private static readonly string[] Prompts =
    [
        "What is the weather in Lisbon?",
        "How many messages are in my history?",
        "How do refunds work?",
        "What time is it?",
        "Tell me about isolation.",
        "How do I reset my password?",
    ];

    private static readonly InjectedFailure[] Failures =
    [
        InjectedFailure.Exception,
        InjectedFailure.DatabaseError,
        InjectedFailure.Hang,
        InjectedFailure.Stuck,
        InjectedFailure.SlowClient,
        InjectedFailure.VanishingClient,
    ];

    /// <summary>Makes the plan: runs spread round-robin over the users, failures drawn from <see cref="SimulationOptions.Seed"/>.</summary>
    public static IReadOnlyList<PlannedRun>[] CreatePlan(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var random = new Random(options.Seed);
        var plan = new List<PlannedRun>[options.Users];
        for (var u = 0; u < plan.Length; u++)
        {
            plan[u] = [];
        }

        for (var i = 0; i < options.Runs; i++)
        {
            var user = i % options.Users;
            var failure = random.NextDouble() < options.FailureRate ? Failures[random.Next(Failures.Length)] : InjectedFailure.None;
            var text = Prompts[random.Next(Prompts.Length)] + failure switch
            {
                InjectedFailure.Exception => " #fail",
                InjectedFailure.DatabaseError => " #dberror",
                InjectedFailure.Hang => " #hang",
                InjectedFailure.Stuck => " #stuck",

                // Long enough for the client to vanish while the run is still going.
                InjectedFailure.VanishingClient => " #slow",
                _ => string.Empty,
            };
            plan[user].Add(new PlannedRun(user, $"u{user}-r{plan[user].Count + 1}", text, failure));
        }

        return plan;
    }

    public static string UserName(int user) => "user-" + user.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The conversation (<c>threadId</c>) every run of <paramref name="user"/> is sent in: an id the client made, as an app would keep in a URL.</summary>
    public static string ConversationId(int user) => "conv-" + UserName(user);
}
