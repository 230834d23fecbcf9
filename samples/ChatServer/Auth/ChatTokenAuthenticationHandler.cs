using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ChatServer.Auth;

/// <summary>
/// Authenticates a request by the sample's token (<see cref="ChatTokenService"/>), from the <c>access_token</c> query
/// parameter (how SignalR clients pass it on a WebSocket) or <c>Authorization: Bearer</c>. The user id becomes the
/// <see cref="ClaimTypes.NameIdentifier"/> claim, which SignalR's default <c>IUserIdProvider</c> reads.
/// </summary>
internal sealed class ChatTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ChatTokenService tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ChatToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ChatTokenService.TokenOf(Request);
        if (token is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!tokens.TryValidate(token, out var userId))
        {
            return Task.FromResult(AuthenticateResult.Fail("The token is malformed, expired or signed by another server."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, userId)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
