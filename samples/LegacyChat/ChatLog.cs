namespace LegacyChat;

/// <summary>"The recent messages" for the history page: one list for every user, written by every request.</summary>
public sealed class ChatLog
{
    private readonly List<string> _recent = new(); // [ISO006 error]
    private string? _lastUser; // [ISO007 warning]

    public void Add(string userId, string message)
    {
        _lastUser = userId;
        _recent.Add(userId + ": " + message);
    }

    public IReadOnlyList<string> Recent => _recent;

    public string? LastUser => _lastUser;
}
