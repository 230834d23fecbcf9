using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Isolation;
using Microsoft.Extensions.Options;

namespace ChatServer.Auth;

/// <summary>
/// Issues and checks the sample's user tokens: <c>base64url(userId|expiresUnixSeconds).base64url(HMAC-SHA256)</c> signed
/// with a server key. The WebSocket handler takes the user id from a valid token only, never from a message, so a client
/// cannot act as another user without that user's token.
/// </summary>
public sealed class ChatTokenService
{
    private const int MinimumKeyBytes = 32;
    private readonly byte[] _key;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;

    public ChatTokenService(IOptions<ChatAuthOptions> options, TimeProvider time)
    {
        var settings = options.Value;
        _time = time;
        _lifetime = settings.TokenLifetime;
        if (_lifetime <= TimeSpan.Zero)
        {
            throw new OptionsValidationException(
                ChatAuthOptions.SectionName,
                typeof(ChatAuthOptions),
                [$"Chat:Auth:TokenLifetime is {_lifetime}; it must be positive (for example 12:00:00)."]);
        }

        if (string.IsNullOrEmpty(settings.SigningKey))
        {
            _key = RandomNumberGenerator.GetBytes(MinimumKeyBytes);
            IsEphemeralKey = true;
            return;
        }

        try
        {
            _key = Convert.FromBase64String(settings.SigningKey);
        }
        catch (FormatException ex)
        {
            throw new OptionsValidationException(
                ChatAuthOptions.SectionName,
                typeof(ChatAuthOptions),
                [$"Chat:Auth:SigningKey is not base64 ({ex.Message}). Generate one with: openssl rand -base64 32"]);
        }

        if (_key.Length < MinimumKeyBytes)
        {
            throw new OptionsValidationException(
                ChatAuthOptions.SectionName,
                typeof(ChatAuthOptions),
                [$"Chat:Auth:SigningKey has {_key.Length} bytes; an HMAC-SHA256 key needs at least {MinimumKeyBytes}. Generate one with: openssl rand -base64 32"]);
        }
    }

    /// <summary>Gets a value indicating whether the key was generated at start (tokens do not survive a restart).</summary>
    public bool IsEphemeralKey { get; }

    /// <summary>Issues a token for <paramref name="userId"/>.</summary>
    /// <exception cref="ArgumentException">The user id is not a valid <see cref="UserExecutionContext.UserId"/> or contains '|'.</exception>
    public string Issue(string userId)
    {
        ValidateUserId(userId);
        var expires = _time.GetUtcNow().Add(_lifetime).ToUnixTimeSeconds();
        var payload = Encoding.UTF8.GetBytes(userId + "|" + expires.ToString(CultureInfo.InvariantCulture));
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(_key, payload));
    }

    /// <summary>The token of a request: the <c>access_token</c> query parameter (browsers cannot set headers on a WebSocket), else <c>Authorization: Bearer</c>.</summary>
    public static string? TokenOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = request.Query["access_token"].ToString();
        if (!string.IsNullOrEmpty(query))
        {
            return query;
        }

        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }

    /// <summary>Checks a token: well formed, signed with this server's key, not expired. Returns its user.</summary>
    public bool TryValidate(string? token, [NotNullWhen(true)] out string? userId)
    {
        userId = null;
        if (string.IsNullOrEmpty(token) || token.Length > 2048)
        {
            return false;
        }

        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == token.Length - 1)
        {
            return false;
        }

        byte[] payload;
        byte[] signature;
        try
        {
            payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return false;
        }

        // Constant-time comparison: the time taken does not tell an attacker how much of a forged signature was right.
        if (!CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_key, payload), signature))
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(payload);
        var bar = text.LastIndexOf('|');
        if (bar <= 0 || !long.TryParse(text.AsSpan(bar + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return false;
        }

        if (_time.GetUtcNow().ToUnixTimeSeconds() >= expires)
        {
            return false;
        }

        userId = text[..bar];
        return true;
    }

    /// <summary>Throws when <paramref name="userId"/> cannot be a user: empty, too long, control characters, or '|'.</summary>
    public static void ValidateUserId(string userId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        if (userId.Contains('|', StringComparison.Ordinal) || userId.Length > 64)
        {
            throw new ArgumentException(
                $"User name '{userId}' is not accepted: use at most 64 characters and no '|'.", nameof(userId));
        }

        // The library's own validation (control characters, length) gives the same message the rest of the app would.
        _ = new UserExecutionContext(userId);
    }
}
