using Microsoft.Extensions.Options;

namespace ChatServer.Auth;

/// <summary>
/// Checks <see cref="ChatAuthOptions"/> when the host starts: a bad key or lifetime stops the server with the message,
/// before it listens, instead of failing each sign-in later.
/// </summary>
internal sealed class ChatAuthOptionsValidator : IValidateOptions<ChatAuthOptions>
{
    public const int MinimumKeyBytes = 32;

    public ValidateOptionsResult Validate(string? name, ChatAuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.TokenLifetime <= TimeSpan.Zero)
        {
            failures.Add($"Chat:Auth:TokenLifetime is {options.TokenLifetime}; it must be positive (for example 12:00:00).");
        }

        if (!TryDecodeKey(options.SigningKey, out _, out var keyProblem))
        {
            failures.Add(keyProblem);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Decodes a configured key; an empty one decodes to <see langword="null"/> (a random key is made instead).</summary>
    public static bool TryDecodeKey(string? signingKey, out byte[]? key, out string problem)
    {
        key = null;
        problem = string.Empty;
        if (string.IsNullOrEmpty(signingKey))
        {
            return true;
        }

        var buffer = new byte[(signingKey.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(signingKey, buffer, out var length))
        {
            problem = $"Chat:Auth:SigningKey is not base64 ({signingKey.Length} characters). Generate one with: openssl rand -base64 32";
            return false;
        }

        if (length < MinimumKeyBytes)
        {
            problem = $"Chat:Auth:SigningKey has {length} bytes; an HMAC-SHA256 key needs at least {MinimumKeyBytes}. Generate one with: openssl rand -base64 32";
            return false;
        }

        key = buffer[..length];
        return true;
    }
}
