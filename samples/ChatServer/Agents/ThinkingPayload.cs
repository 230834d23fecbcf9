namespace ChatServer.Agents;

/// <summary>The payload of <c>agent_thinking</c>: which step the agent is at (<c>triage</c>, <c>answer</c>).</summary>
public sealed record ThinkingPayload(string Step);
