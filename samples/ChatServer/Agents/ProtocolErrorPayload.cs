namespace ChatServer.Agents;

/// <summary>The payload of <c>protocol_error</c>: a stable code and a message for the developer.</summary>
public sealed record ProtocolErrorPayload(string Code, string Message);
