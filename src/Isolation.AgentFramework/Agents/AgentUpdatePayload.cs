namespace Isolation.AgentFramework;

/// <summary>The payload of an <see cref="AgentFrameworkEventTypes.AgentUpdate"/> event: one streamed piece of the answer.</summary>
/// <param name="Text">The text of the update.</param>
/// <param name="MessageId">The id of the message the update belongs to, when the model gives one.</param>
public sealed record AgentUpdatePayload(string Text, string? MessageId);
