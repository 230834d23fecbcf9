using System.Text.Json.Serialization;

namespace ChatServer.Agents;

/// <summary>Source-generated metadata for the sample's event payloads (set as <c>EventDeliveryOptions.PayloadTypeInfoResolver</c>).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ThinkingPayload))]
[JsonSerializable(typeof(Isolation.AgentFramework.ToolEventPayload))]
[JsonSerializable(typeof(AnswerPayload))]
[JsonSerializable(typeof(ProtocolErrorPayload))]
[JsonSerializable(typeof(ReadyPayload))]
internal sealed partial class ChatJsonContext : JsonSerializerContext;
