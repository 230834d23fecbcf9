namespace ChatServer.Agents;

/// <summary>The payload of <c>ready</c>: who the connection belongs to and its id.</summary>
public sealed record ReadyPayload(string UserId, string ConnectionId);
