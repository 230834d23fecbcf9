namespace Isolation.Benchmarks;

/// <summary>
/// An agent conversation session (the shape of an agent framework's <c>AgentSession</c> or a <c>ChatHistory</c>): per-user
/// state that must never be shared. Creating one is cheap, so a turn using it shows the cost of isolation itself.
/// </summary>
public sealed class Conversation : IDisposable
{
    private readonly List<string> _messages = new(4);

    public int Count => _messages.Count;

    public static ValueTask<Conversation> CreateAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new Conversation());

    public void Add(string message) => _messages.Add(message);

    public void Dispose() => _messages.Clear();
}
