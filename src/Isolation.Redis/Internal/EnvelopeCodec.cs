using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Isolation.Redis.Internal;

/// <summary>
/// The wire format of one message on a node's channel: a version byte, an HMAC-SHA256 tag, and a UTF-8 JSON body naming the
/// sender, the target node, the sender's counter for that target, when it was sent, and the envelope. The tag covers the
/// channel name and the body, so a message copied to another node's or another environment's channel does not verify.
/// </summary>
internal sealed class EnvelopeCodec
{
    public const byte Version = 1;
    public const int TagLength = 32;
    public const int HeaderLength = 1 + TagLength;

    private readonly byte[] _signingKey;
    private readonly byte[][] _verifyingKeys;
    private readonly JsonSerializerOptions _payloadOptions;

    public EnvelopeCodec(byte[] signingKey, IReadOnlyList<byte[]> previousKeys, IJsonTypeInfoResolver? payloadResolver)
    {
        _signingKey = signingKey;
        _verifyingKeys = [signingKey, .. previousKeys];
        _payloadOptions = PayloadOptions.Create(payloadResolver);
    }

    /// <summary>Serializes a payload once for all target nodes; <c>null</c> becomes the JSON literal.</summary>
    public byte[] SerializePayload(object? payload)
    {
        if (payload is null)
        {
            return "null"u8.ToArray();
        }

        if (payload is JsonElement element)
        {
            return JsonSerializer.SerializeToUtf8Bytes(element, RedisJsonContext.Default.JsonElement);
        }

        return JsonSerializer.SerializeToUtf8Bytes(payload, _payloadOptions.GetTypeInfo(payload.GetType()));
    }

    public byte[] Encode(byte[] channel, in OutboundHeader header, EventEnvelope envelope, byte[] payloadJson)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + payloadJson.Length);
        buffer.GetSpan(HeaderLength)[..HeaderLength].Clear();
        buffer.Advance(HeaderLength);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("from", header.From);
            writer.WriteString("inst", header.Instance);
            writer.WriteNumber("ctr", header.Counter);
            writer.WriteNumber("sent", header.SentUnixMilliseconds);
            writer.WriteString("to", header.To);
            writer.WriteString("user", envelope.UserId);
            if (envelope.ConnectionId is not null)
            {
                writer.WriteString("conn", envelope.ConnectionId);
            }

            writer.WriteString("run", envelope.RunId);
            writer.WriteNumber("seq", envelope.Sequence);
            writer.WriteString("ts", envelope.Timestamp);
            writer.WriteString("type", envelope.Type);
            writer.WritePropertyName("payload");
            writer.WriteRawValue(payloadJson, skipInputValidation: true);
            writer.WriteEndObject();
        }

        var message = buffer.WrittenSpan.ToArray();
        message[0] = Version;
        ComputeTag(_signingKey, channel, message.AsSpan(HeaderLength), message.AsSpan(1, TagLength));
        return message;
    }

    public DecodeStatus TryDecode(byte[] channel, ReadOnlySpan<byte> message, out InboundMessage decoded)
    {
        decoded = default;
        if (message.Length <= HeaderLength || message[0] != Version)
        {
            return DecodeStatus.Malformed;
        }

        var body = message[HeaderLength..];
        var tag = message.Slice(1, TagLength);
        Span<byte> expected = stackalloc byte[TagLength];
        var verified = false;
        foreach (var key in _verifyingKeys)
        {
            ComputeTag(key, channel, body, expected);
            if (CryptographicOperations.FixedTimeEquals(tag, expected))
            {
                verified = true;
                break;
            }
        }

        if (!verified)
        {
            return DecodeStatus.Forged;
        }

        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            var payload = root.GetProperty("payload");
            decoded = new InboundMessage(
                root.GetProperty("from").GetString()!,
                root.GetProperty("inst").GetString()!,
                root.GetProperty("ctr").GetInt64(),
                root.GetProperty("sent").GetInt64(),
                root.GetProperty("to").GetString()!,
                new EventEnvelope(
                    root.GetProperty("user").GetString()!,
                    root.TryGetProperty("conn", out var connection) ? connection.GetString() : null,
                    root.GetProperty("run").GetString()!,
                    root.GetProperty("seq").GetInt64(),
                    root.GetProperty("ts").GetDateTimeOffset(),
                    root.GetProperty("type").GetString()!,
                    payload.ValueKind == JsonValueKind.Null ? null : payload.Clone()));
            return DecodeStatus.Ok;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            // Signed by a key of ours but not our format: a node of another version, or a bug; never delivered.
            return DecodeStatus.Malformed;
        }
    }

    public static byte[] ChannelBytes(string channel) => Encoding.UTF8.GetBytes(channel);

    private static void ComputeTag(byte[] key, byte[] channel, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        var length = channel.Length + 1 + body.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            channel.CopyTo(rented, 0);
            rented[channel.Length] = 0;
            body.CopyTo(rented.AsSpan(channel.Length + 1));
            HMACSHA256.HashData(key, rented.AsSpan(0, length), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

/// <summary>What the sender adds to an envelope on the wire.</summary>
internal readonly record struct OutboundHeader(string From, string Instance, long Counter, long SentUnixMilliseconds, string To);

/// <summary>A verified message.</summary>
internal readonly record struct InboundMessage(string From, string Instance, long Counter, long SentUnixMilliseconds, string To, EventEnvelope Envelope);

/// <summary>The result of decoding one message.</summary>
internal enum DecodeStatus
{
    Ok,
    Malformed,
    Forged,
}
