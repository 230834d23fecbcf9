using ChatServer.Dashboard;
using ChatServer.Realtime;
using Isolation;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ChatServer.Simulation;

/// <summary>One chat server of the simulation: the real <see cref="ChatServerApp"/> on a free loopback port.</summary>
internal sealed class SimulatedNode : IAsyncDisposable
{
    private SimulatedNode(WebApplication app, Uri address, RedisCounters? redis)
    {
        App = app;
        Address = address;
        Redis = redis;
        Monitor = app.Services.GetRequiredService<IsolationMonitor>();
        Metrics = app.Services.GetRequiredService<IsolationMetricsAggregator>();
        Registry = app.Services.GetRequiredService<IConnectionRegistry>();
        Runs = app.Services.GetRequiredService<ActiveRuns>();
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public IsolationMonitor Monitor { get; }

    public IsolationMetricsAggregator Metrics { get; }

    public IConnectionRegistry Registry { get; }

    public ActiveRuns Runs { get; }

    /// <summary>Gets the node's Redis message counters, or <see langword="null"/> on a single node.</summary>
    public RedisCounters? Redis { get; }

    public static async Task<SimulatedNode> StartAsync(
        int index, int count, IReadOnlyDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        var builder = ChatServerApp.CreateBuilder([], b =>
        {
            b.Logging.ClearProviders();
            b.Configuration.AddInMemoryCollection(settings);
            if (count > 1)
            {
                b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Isolation:Redis:NodeId"] = "node-" + (index + 1) });
            }

            configure?.Invoke(b);
        });
        var app = ChatServerApp.Build(builder);
        RedisCounters? redis = null;
        try
        {
            redis = count > 1 ? new RedisCounters(app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()) : null;
            await app.StartAsync(cancellationToken);
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return new SimulatedNode(app, address, redis);
        }
        catch
        {
            redis?.Dispose();
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Redis?.Dispose();
        await App.DisposeAsync();
    }
}
