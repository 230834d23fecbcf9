using System.Net;
using Isolation.AspNetCore.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.AspNetCore.Tests.Endpoints;

/// <summary>An MVC controller whose actions run isolated: <c>app.MapControllers().WithIsolation()</c>.</summary>
[ApiController]
[Route("mvc")]
public sealed class IsolatedChatController(IsolationScope scope) : ControllerBase
{
    [HttpGet("me")]
    public string Me([FromServices] IsolationScope fromServices) =>
        $"{scope.Context.UserId}|{ReferenceEquals(scope, fromServices)}|{ReferenceEquals(IsolationScope.Current, scope)}|{scope.IsDisposed}";

    [HttpGet("violate")]
    public string Violate()
    {
        scope.ReportViolation(new IsolationViolation(
            ViolationKind.CrossScopeAccess,
            "Test.Conversation",
            $"User '{scope.Context.UserId}' touched the conversation of user 'victim-7'.",
            scope.Context,
            new UserExecutionContext("victim-7")));
        return "unreachable in Enforce";
    }
}

public sealed class IsolationControllerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<TestHost> StartAsync() => TestHost.StartAsync(
        services =>
        {
            services.AddIsolation(o => o.Mode = IsolationMode.Enforce);
            services.AddControllers().AddApplicationPart(typeof(IsolatedChatController).Assembly);
        },
        app => app.MapControllers().RequireAuthorization().WithIsolation());

    [Fact]
    public async Task WithIsolation_OnMapControllers_ControllerAndActionGetTheScopeOfTheUser()
    {
        await using var host = await StartAsync();
        using var alice = host.CreateClient("alice");
        using var bob = host.CreateClient("bob");

        var bodies = await Task.WhenAll(alice.GetStringAsync("/mvc/me", Ct), bob.GetStringAsync("/mvc/me", Ct));

        // The constructor and the action get the same scope, of the caller, current and alive while the action runs.
        Assert.Equal(["alice|True|True|False", "bob|True|True|False"], bodies);
    }

    [Fact]
    public async Task WithIsolation_OnMapControllers_ViolationIsProblem500WithoutUserData()
    {
        await using var host = await StartAsync();
        using var alice = host.CreateClient("alice");

        using var response = await alice.GetAsync("/mvc/violate", Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("cross_scope_access", body, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", body, StringComparison.Ordinal);
        Assert.DoesNotContain("victim-7", body, StringComparison.Ordinal);
    }
}
