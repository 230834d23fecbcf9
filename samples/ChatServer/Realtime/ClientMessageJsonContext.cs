using System.Text.Json.Serialization;

namespace ChatServer.Realtime;

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ClientMessage))]
internal sealed partial class ClientMessageJsonContext : JsonSerializerContext;
