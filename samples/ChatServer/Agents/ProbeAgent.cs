using Isolation;

namespace ChatServer.Agents;

/// <summary>
/// The deliberate mistake behind <c>POST /api/diagnostics/violation</c> (only mapped when <c>Chat:ViolationProbe</c> is true):
/// an agent whose factory hands every scope the same instance, as an agent registered as a singleton would. Giving it to a
/// second scope is a real <c>singleton_reuse</c> violation, reported by the library like any other.
/// </summary>
public sealed class ProbeAgent : IsolatedAgent
{
    private readonly List<string> _notes = [];

    public int Note(string text)
    {
        EnsureOwned();
        _notes.Add(text);
        return _notes.Count;
    }
}
