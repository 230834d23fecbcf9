using System.Security.Claims;
using System.Security.Cryptography;
using Isolation;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Extensions.Options;

namespace ChatServer.Auth;

/// <summary>
/// Issues the sample's JWTs (HMAC-SHA256, the user in <c>sub</c>) and holds the parameters that ASP.NET Core's JWT bearer
/// authentication checks them with (<see cref="ChatAuthentication"/>): the same key, issuer, audience and clock. The
/// WebSocket handler takes the user from <c>HttpContext.User</c> only, never from a message, so a client cannot act as
/// another user without that user's token.
/// </summary>
public sealed class ChatTokenService
{
    /// <summary>The issuer and audience of the sample's tokens.</summary>
    public const string Issuer = "ChatServer";

    /// <summary>The claim that carries the user id.</summary>
    public const string UserIdClaim = JwtRegisteredClaimNames.Sub;

    /// <summary>The longest user id accepted, in characters.</summary>
    public const int MaxUserIdLength = 64;

    private readonly SymmetricSecurityKey _key;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public ChatTokenService(IOptions<ChatAuthOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        var validation = new ChatAuthOptionsValidator().Validate(null, settings);
        if (validation.Failed)
        {
            throw new OptionsValidationException(ChatAuthOptions.SectionName, typeof(ChatAuthOptions), validation.Failures);
        }

        _time = time;
        _lifetime = settings.TokenLifetime;
        ChatAuthOptionsValidator.TryDecodeKey(settings.SigningKey, out var key, out _);
        IsEphemeralKey = key is null;
        _key = new SymmetricSecurityKey(key ?? RandomNumberGenerator.GetBytes(ChatAuthOptionsValidator.MinimumKeyBytes));
    }

    /// <summary>Gets a value indicating whether the key was generated at start (tokens do not survive a restart).</summary>
    public bool IsEphemeralKey { get; }

    /// <summary>Gets how tokens are checked: this server's key, issuer and audience, the lifetime with no clock skew.</summary>
    public TokenValidationParameters ValidationParameters => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = Issuer,
        IssuerSigningKey = _key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.Zero,
        RequireExpirationTime = true,
        LifetimeValidator = (notBefore, expires, _, _) =>
        {
            // This server's clock (a fake one in tests): valid from notBefore up to, not including, expires.
            var now = _time.GetUtcNow().UtcDateTime;
            return expires is { } end && now < end && (notBefore is not { } start || start <= now);
        },
        NameClaimType = UserIdClaim,
    };

    /// <summary>Issues a token for <paramref name="userId"/>.</summary>
    /// <exception cref="ArgumentException">The user id is not a valid <see cref="UserExecutionContext.UserId"/> or contains '|'.</exception>
    public string Issue(string userId)
    {
        ValidateUserId(userId);
        var now = _time.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Issuer,
            Subject = new ClaimsIdentity([new Claim(UserIdClaim, userId)]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + _lifetime,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>Checks a token as the server does: well formed, signed with this server's key, not expired. Returns its user.</summary>
    public async Task<string?> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var result = await _handler.ValidateTokenAsync(token, ValidationParameters);
        return result.IsValid ? ChatAuthentication.UserIdOf(new ClaimsPrincipal(result.ClaimsIdentity)) : null;
    }

    /// <summary>Throws when <paramref name="userId"/> cannot be a user: empty, too long, control characters, or '|'.</summary>
    /// <remarks>The message quotes at most the first 32 characters of the name, so a huge name is not sent back.</remarks>
    public static void ValidateUserId(string userId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        if (userId.Contains('|', StringComparison.Ordinal) || userId.Length > MaxUserIdLength)
        {
            var shown = userId.Length > 32 ? userId[..32] + "…" : userId;
            throw new ArgumentException(
                $"User name '{shown}' ({userId.Length} characters) is not accepted: use 1 to {MaxUserIdLength} characters and no '|'.", nameof(userId));
        }

        // The library's own validation (control characters, length) gives the same message the rest of the app would.
        _ = new UserExecutionContext(userId);
    }
}
