using System.Security.Claims;
using ChatServer.Realtime;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.SignalR;
using Microsoft.IdentityModel.Tokens;

namespace ChatServer.Auth;

/// <summary>
/// ASP.NET Core authentication for the sample: JWT bearer tokens issued by <see cref="ChatTokenService"/>, from the
/// <c>Authorization</c> header, or on <c>/ws</c> and the SignalR hub <c>/hub/chat</c> from the <c>access_token</c> query
/// parameter (browsers cannot set headers on a WebSocket), as SignalR does. The hub's user (<c>Context.UserIdentifier</c>)
/// is the token's <c>sub</c> claim. A refused WebSocket upgrade gets 401 with <c>WWW-Authenticate</c> and one
/// log line saying why.
/// </summary>
public static partial class ChatAuthentication
{
    /// <summary>The path of the WebSocket endpoint, where the token may come in the query.</summary>
    public const string SocketPath = "/ws";

    /// <summary>The path of the SignalR hub, where SignalR clients send the token in the query.</summary>
    public const string HubPath = "/hub/chat";

    /// <summary>Adds the JWT bearer scheme, checked with <see cref="ChatTokenService.ValidationParameters"/>, and authorization.</summary>
    public static IServiceCollection AddChatAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<ChatTokenService>();
        services.AddSingleton<IUserIdProvider, SubjectUserIdProvider>();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<ChatTokenService>((options, tokens) =>
        {
            options.MapInboundClaims = false;
            options.TokenValidationParameters = tokens.ValidationParameters;
            options.Events = new JwtBearerEvents
            {
                OnMessageReceived = context =>
                {
                    if ((context.HttpContext.Request.Path.StartsWithSegments(SocketPath) || context.HttpContext.Request.Path.StartsWithSegments(HubPath))
                        && context.Request.Query["access_token"].ToString() is { Length: > 0 } token)
                    {
                        context.Token = token;
                    }

                    return Task.CompletedTask;
                },
                OnChallenge = context =>
                {
                    if (context.HttpContext.Request.Path.StartsWithSegments(SocketPath))
                    {
                        LogUpgradeRefused(context.HttpContext, context.AuthenticateFailure);
                    }

                    return Task.CompletedTask;
                },
            };
        });
        services.AddAuthorization();
        return services;
    }

    /// <summary>The user id of an authenticated principal (its <c>sub</c> claim), or <see langword="null"/>.</summary>
    public static string? UserIdOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Identity?.IsAuthenticated == true ? user.FindFirst(ChatTokenService.UserIdClaim)?.Value : null;
    }

    /// <summary>SignalR's user of a connection: the token's <c>sub</c> claim, as on <c>/ws</c>.</summary>
    private sealed class SubjectUserIdProvider : IUserIdProvider
    {
        public string? GetUserId(HubConnectionContext connection) => UserIdOf(connection.User);
    }

    private static string Reason(Exception? failure) => failure switch
    {
        null => "no token (send it as access_token in the query or as Authorization: Bearer)",
        SecurityTokenInvalidLifetimeException or SecurityTokenExpiredException => "the token expired",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the signature does not match this server's key (forged, or issued by another server)",
        SecurityTokenMalformedException => "the token is not a JWT",
        SecurityTokenInvalidIssuerException or SecurityTokenInvalidAudienceException => "the token was issued for another service",
        _ => "the token was refused (" + failure.GetType().Name + ")",
    };

    private static void LogUpgradeRefused(HttpContext http, Exception? failure)
    {
        var logger = http.RequestServices.GetRequiredService<ILogger<ChatSocketHandler>>();
        if (logger.IsEnabled(LogLevel.Information))
        {
            var reason = Reason(failure);
            var remoteAddress = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            LogUpgradeRefused(logger, reason, remoteAddress);
        }
    }

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "WebSocket upgrade refused with 401: {Reason} (from {RemoteAddress})")]
    private static partial void LogUpgradeRefused(ILogger logger, string reason, string remoteAddress);
}
