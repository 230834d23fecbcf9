namespace LegacyChat;

/// <summary>"The recent messages" for the history page: one list for every user, written by every request.</summary>
public sealed class ChatLog
{
    private readonly List<string> _recent = new(); // [ISO006 error]
    private string? _lastUser; // [ISO007 warning]

    // The log's own on/off switch, shared by everyone on purpose: each command sets it to a constant, so no diagnostic.
    private bool _paused;

    public void Pause() => _paused = true;

    public void Resume() => _paused = false;

    public void Add(string userId, string message)
    {
        if (_paused)
        {
            return;
        }

        _lastUser = userId;
        _recent.Add(userId + ": " + message);
    }

    public IReadOnlyList<string> Recent => _recent;

    public string? LastUser => _lastUser;
}
