using System.Security.Claims;

namespace Isolation.AspNetCore.Endpoints;

/// <summary>
/// Options of the endpoints marked with <c>.WithIsolation()</c>: which claim of the authenticated user is the user id,
/// the deadline of a request's scope, and the <c>Retry-After</c> of a 503 when a session pool is exhausted.
/// </summary>
/// <example>
/// <code>
/// builder.Services.Configure&lt;IsolationEndpointOptions&gt;(o => o.UserIdClaimType = "sub");
/// </code>
/// </example>
public sealed class IsolationEndpointOptions
{
    /// <summary>Gets or sets the claim type whose value is the user id of the request's scope.</summary>
    /// <value>The default value is <see cref="ClaimTypes.NameIdentifier"/>.</value>
    public string UserIdClaimType { get; set; } = ClaimTypes.NameIdentifier;

    /// <summary>Gets or sets the deadline of a request's scope; <see langword="null"/> takes <see cref="IsolationOptions.DefaultDeadline"/>.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public TimeSpan? Deadline { get; set; }

    /// <summary>Gets or sets the <c>Retry-After</c> sent with a 503 when a session pool is exhausted (rounded up to whole seconds, at least 1).</summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}
