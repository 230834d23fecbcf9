using System.Text.Json.Serialization;

namespace ChatServer.Agents;

public sealed record ThinkingPayload(string Step);

public sealed record ToolExecutingPayload(string Tool, IDictionary<string, string?> Arguments);

public sealed record ToolCompletedPayload(string Tool, string Result);

public sealed record AnswerPayload(string Text);

public sealed record ProtocolErrorPayload(string Code, string Message);

public sealed record ReadyPayload(string UserId, string ConnectionId);

/// <summary>Source-generated metadata for the sample's event payloads (set as <c>EventDeliveryOptions.PayloadTypeInfoResolver</c>).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ThinkingPayload))]
[JsonSerializable(typeof(ToolExecutingPayload))]
[JsonSerializable(typeof(ToolCompletedPayload))]
[JsonSerializable(typeof(AnswerPayload))]
[JsonSerializable(typeof(ProtocolErrorPayload))]
[JsonSerializable(typeof(ReadyPayload))]
internal sealed partial class ChatJsonContext : JsonSerializerContext;
