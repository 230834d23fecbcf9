using Isolation.AspNetCore.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.AspNetCore.Tests.SignalR;

internal static class SignalRHosts
{
    public static Task<TestHost> StartAsync(Action<IServiceCollection>? configure = null) => TestHost.StartAsync(
        services =>
        {
            services.AddIsolation(o => o.Mode = IsolationMode.Enforce);
            services.AddIsolatedAgent<ProbeAgent>();
            services.AddSingleton<HubProbe>();
            services.AddSignalR().AddIsolation();
            configure?.Invoke(services);
        },
        app =>
        {
            app.MapHub<ChatHub>("/chat");
            app.MapHub<RetainingHub>("/retain");
            app.MapHub<ObjectRetainingHub>("/retain-object");
        });

    public static async Task<Microsoft.AspNetCore.SignalR.Client.HubConnection> ConnectedAsync(this TestHost host, string? user, string path = "/chat")
    {
        var connection = host.Connect(path, user);
        await connection.StartAsync(TestContext.Current.CancellationToken);
        return connection;
    }
}
