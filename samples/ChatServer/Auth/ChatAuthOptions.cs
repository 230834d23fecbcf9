namespace ChatServer.Auth;

/// <summary>Token settings, bound from <c>Chat:Auth</c> and checked at start by <see cref="ChatAuthOptionsValidator"/>.</summary>
public sealed class ChatAuthOptions
{
    public const string SectionName = "Chat:Auth";

    /// <summary>
    /// Gets or sets the HMAC-SHA256 key that signs the JWTs, base64, at least 32 bytes. When empty a random key is made at
    /// start, so tokens are valid only until the process stops.
    /// </summary>
    /// <value>The default value is empty.</value>
    public string? SigningKey { get; set; }

    /// <summary>Gets or sets how long a token is valid.</summary>
    /// <value>The default value is 12 hours.</value>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// Gets or sets a value indicating whether <c>POST /api/login</c> issues a token for any user name. It stands in for a
    /// real identity provider in the sample; turn it off and issue tokens from your own sign-in.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool AllowDemoLogin { get; set; } = true;
}
