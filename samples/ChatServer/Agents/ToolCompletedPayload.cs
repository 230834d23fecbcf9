namespace ChatServer.Agents;

/// <summary>The payload of <c>tool_completed</c>: the tool and its result.</summary>
public sealed record ToolCompletedPayload(string Tool, string Result);
