namespace ChatServer.Agents;

/// <summary>The payload of <c>tool_executing</c>: the tool and its arguments as the model gave them.</summary>
public sealed record ToolExecutingPayload(string Tool, IDictionary<string, string?> Arguments);
