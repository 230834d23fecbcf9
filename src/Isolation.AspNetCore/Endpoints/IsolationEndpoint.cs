using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Isolation.AspNetCore.Endpoints;

/// <summary>
/// Wraps an endpoint's request delegate: one scope per request for the authenticated user, the request's services taken
/// from the scope (so the handler can take <see cref="IsolationScope"/> and agents as parameters), and isolation failures
/// mapped to HTTP answers that carry no user data.
/// </summary>
internal sealed class IsolationEndpoint
{
    private readonly RequestDelegate _next;
    private readonly IServiceProvider _services;
    private IIsolationScopeFactory? _scopes;
    private IsolationEndpointOptions? _options;

    public IsolationEndpoint(RequestDelegate next, IServiceProvider services)
    {
        _next = next;
        _services = services;
    }

    public async Task InvokeAsync(HttpContext http)
    {
        var scopes = _scopes ??= _services.GetService<IIsolationScopeFactory>()
            ?? throw new InvalidOperationException(
                $"Endpoint '{http.GetEndpoint()?.DisplayName}' is marked WithIsolation(), but the isolation runtime is not registered. Call builder.Services.AddIsolation() before building the app.");
        var options = _options ??= _services.GetRequiredService<IOptions<IsolationEndpointOptions>>().Value;

        var user = http.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            await Problem(
                http,
                StatusCodes.Status401Unauthorized,
                "Authentication required",
                "This endpoint runs isolated per user and the request has no authenticated user. Send credentials the app's authentication accepts; on the server, add authentication (app.UseAuthentication()) and RequireAuthorization() to the endpoint.").ConfigureAwait(false);
            return;
        }

        var userId = user.FindFirst(options.UserIdClaimType)?.Value;
        if (string.IsNullOrWhiteSpace(userId) || userId.Length > UserExecutionContext.MaxIdLength)
        {
            await Problem(
                http,
                StatusCodes.Status401Unauthorized,
                "No user id",
                $"This endpoint runs isolated per user, but the authenticated user has no usable '{options.UserIdClaimType}' claim (missing, empty or longer than {UserExecutionContext.MaxIdLength} characters). Issue that claim, or set IsolationEndpointOptions.UserIdClaimType to the claim that holds the user id.").ConfigureAwait(false);
            return;
        }

        var scope = scopes.CreateScope(new UserExecutionContext(userId), options.Deadline);
        var requestServices = http.RequestServices;
        try
        {
            using var aborted = http.RequestAborted.UnsafeRegister(static s => ((IsolationScope)s!).Abort(), scope);
            http.RequestServices = scope.Services;
            try
            {
                await _next(http).ConfigureAwait(false);
            }
            finally
            {
                http.RequestServices = requestServices;
            }
        }
        catch (SessionPoolExhaustedException) when (!http.Response.HasStarted)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling(options.RetryAfter.TotalSeconds));
            http.Response.Headers[HeaderNames.RetryAfter] = seconds.ToString(CultureInfo.InvariantCulture);
            await Problem(
                http,
                StatusCodes.Status503ServiceUnavailable,
                "Busy",
                "The server has no free session for this request right now. Retry after the time in the Retry-After header.").ConfigureAwait(false);
        }
        catch (IsolationViolationException ex) when (!http.Response.HasStarted)
        {
            // The violation's message names users and resources: it goes to logs and metrics, never into the response.
            await Problem(
                http,
                StatusCodes.Status500InternalServerError,
                "Isolation violation",
                "The request was stopped because it would have crossed an isolation boundary between users.",
                ex.Kind.ToTagValue()).ConfigureAwait(false);
        }
        finally
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static Task Problem(HttpContext http, int status, string title, string detail, string? violationKind = null)
    {
        var extensions = new Dictionary<string, object?>(StringComparer.Ordinal) { ["traceId"] = http.TraceIdentifier };
        if (violationKind is not null)
        {
            extensions["violationKind"] = violationKind;
        }

        return Results.Problem(detail: detail, statusCode: status, title: title, extensions: extensions).ExecuteAsync(http);
    }
}
