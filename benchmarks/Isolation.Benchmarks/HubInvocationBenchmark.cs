using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Isolation.Benchmarks;

/// <summary>
/// One hub method invocation, a real SignalR client over loopback WebSockets to a real Kestrel host: a plain hub (the
/// baseline) against the same hub with the isolation filter (a scope per invocation, the connection registered for events).
/// </summary>
public class HubInvocationBenchmark
{
    private WebApplication _plain = null!;
    private WebApplication _isolated = null!;
    private WebApplication _filtered = null!;
    private HubConnection _plainClient = null!;
    private HubConnection _filteredClient = null!;
    private HubConnection _isolatedClient = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_plain, _plainClient) = Start(isolated: false);
        (_isolated, _isolatedClient) = Start(isolated: true);
        (_filtered, _filteredClient) = Start(isolated: false, passThroughFilter: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plainClient.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _isolatedClient.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _filteredClient.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _filtered.StopAsync().GetAwaiter().GetResult();
        _plain.StopAsync().GetAwaiter().GetResult();
        _isolated.StopAsync().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public Task<int> PlainHub() => _plainClient.InvokeAsync<int>(nameof(EchoHub.Echo), 42);

    [Benchmark]
    public Task<int> IsolatedHub() => _isolatedClient.InvokeAsync<int>(nameof(EchoHub.Echo), 42);

    /// <summary>The same hub with a hub filter that only calls the next one: what SignalR's filter pipeline itself costs.</summary>
    [Benchmark]
    public Task<int> PassThroughFilterHub() => _filteredClient.InvokeAsync<int>(nameof(EchoHub.Echo), 42);

    private static (WebApplication App, HubConnection Client) Start(bool isolated, bool passThroughFilter = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IUserIdProvider, FixedUserIdProvider>();
        var signalR = passThroughFilter ? builder.Services.AddSignalR(o => o.AddFilter<PassThroughFilter>()) : builder.Services.AddSignalR();
        if (isolated)
        {
            builder.Services.AddIsolation();
            signalR.AddIsolation();
        }

        var app = builder.Build();
        app.MapHub<EchoHub>("/echo");
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var client = new HubConnectionBuilder()
            .WithUrl(new Uri(new Uri(address), "/echo"), o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
            })
            .Build();
        client.StartAsync().GetAwaiter().GetResult();
        return (app, client);
    }

    public sealed class EchoHub : Hub
    {
        public int Echo(int value) => value;
    }

    private sealed class PassThroughFilter : IHubFilter
    {
        public ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next) => next(invocationContext);
    }

    private sealed class FixedUserIdProvider : IUserIdProvider
    {
        public string? GetUserId(HubConnectionContext connection) => "bench-user";
    }
}
