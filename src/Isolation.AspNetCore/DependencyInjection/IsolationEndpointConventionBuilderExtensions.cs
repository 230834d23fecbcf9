using Isolation.AspNetCore.Endpoints;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Marks endpoints and route groups as isolated per user.</summary>
public static class IsolationEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Runs each request of the endpoint (or of every endpoint of the group) in its own <see cref="Isolation.IsolationScope"/>
    /// for the authenticated user (the claim of <see cref="IsolationEndpointOptions.UserIdClaimType"/>), with the deadline of
    /// <see cref="IsolationEndpointOptions.Deadline"/>. The handler takes <see cref="Isolation.IsolationScope"/> as a parameter
    /// (its services come from the scope). A request without an authenticated user is answered 401,
    /// <see cref="Isolation.SessionPoolExhaustedException"/> 503 with <c>Retry-After</c>, and
    /// <see cref="Isolation.IsolationViolationException"/> a ProblemDetails 500 without user data.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint or group builder.</typeparam>
    /// <param name="builder">The builder returned by <c>MapGet</c>, <c>MapPost</c>, <c>MapGroup</c>, ….</param>
    /// <returns>The builder.</returns>
    /// <example>
    /// <code>
    /// app.MapPost("/chat", (ChatRequest request, IsolationScope scope) => scope.GetAgent&lt;TriageAgent&gt;().AnswerAsync(request.Message, scope.Aborted))
    ///    .RequireAuthorization()
    ///    .WithIsolation();
    /// </code>
    /// </example>
    public static TBuilder WithIsolation<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Finally(static endpoint =>
        {
            // Once per endpoint, even when both its group and the endpoint ask for it.
            if (endpoint.Metadata.Contains(IsolationEndpointMetadata.Instance) || endpoint.RequestDelegate is null)
            {
                return;
            }

            endpoint.Metadata.Add(IsolationEndpointMetadata.Instance);
            endpoint.RequestDelegate = new IsolationEndpoint(endpoint.RequestDelegate, endpoint.ApplicationServices).InvokeAsync;
        });
        return builder;
    }
}
