namespace Isolation.AgentFramework;

/// <summary>The payload of a <see cref="AgentEventTypes.ToolExecuting"/> or <see cref="AgentEventTypes.ToolCompleted"/> event. Tool arguments and results are never sent.</summary>
/// <param name="Tool">The tool (function) name, when known.</param>
/// <param name="CallId">The id of the call, which pairs a <c>tool_executing</c> with its <c>tool_completed</c>.</param>
public sealed record ToolEventPayload(string? Tool, string CallId);
