using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Isolation.Redis.Internal;

/// <summary>
/// The JSON options payloads cross nodes with: the application's <see cref="EventDeliveryOptions.PayloadTypeInfoResolver"/>
/// first, then the common types, then reflection when the application allows it — the same order as the local sinks, so a
/// payload that reaches a local socket also reaches a remote one.
/// </summary>
internal static class PayloadOptions
{
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reflection is only used when JsonSerializer.IsReflectionEnabledByDefault is true, which trimmed and AOT applications turn off.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reflection is only used when JsonSerializer.IsReflectionEnabledByDefault is true, which AOT applications turn off.")]
    public static JsonSerializerOptions Create(IJsonTypeInfoResolver? payloadResolver)
    {
        var resolvers = new List<IJsonTypeInfoResolver>(3);
        if (payloadResolver is not null)
        {
            resolvers.Add(payloadResolver);
        }

        resolvers.Add(RedisJsonContext.Default);
        if (JsonSerializer.IsReflectionEnabledByDefault)
        {
            resolvers.Add(new DefaultJsonTypeInfoResolver());
        }

        var options = new JsonSerializerOptions(RedisJsonContext.Default.Options)
        {
            TypeInfoResolver = JsonTypeInfoResolver.Combine(resolvers.ToArray()),
        };
        options.MakeReadOnly();
        return options;
    }
}

/// <summary>Source-generated metadata for the payload types every application uses.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(RunEndedEvent))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(decimal))]
[JsonSerializable(typeof(Guid))]
[JsonSerializable(typeof(DateTimeOffset))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, object>))]
internal sealed partial class RedisJsonContext : JsonSerializerContext
{
}
