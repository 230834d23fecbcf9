namespace ChatServer.Agents;

/// <summary>The payload of <c>answer</c>: the assistant's answer text.</summary>
public sealed record AnswerPayload(string Text);
