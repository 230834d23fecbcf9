namespace ChatServer.Data;

/// <summary>One stored chat message.</summary>
public sealed record ChatMessageRow(long Id, string UserId, string ThreadId, string RunId, string Role, string Text, long CreatedAt);
