using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Isolation;
using Isolation.Redis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Cross-node delivery, node A -> a socket of the same user on node B, on one Redis:
//   Isolation.Redis (signed envelopes, presence routing) vs SignalR's Redis backplane (Clients.User(...).SendAsync),
// the same payload, the same user, one run. Latency: sequential round trips (emit, wait for the client, next), p50/p99.
// Throughput: a burst of events emitted back to back, until the last one arrives. Plus local delivery cost with and
// without Redis configured (Publish to a local sink, ns per event).
//
//   dotnet run -c Release --project benchmarks/Isolation.Redis.Harness -- [--redis <conn>] [--events 2000] [--burst 20000]
var redis = Arg("--redis") ?? Environment.GetEnvironmentVariable("ISOLATION_TEST_REDIS")
    ?? throw new InvalidOperationException("Pass --redis <StackExchange.Redis configuration> or set ISOLATION_TEST_REDIS (source .ci/setup.d/30-redis.sh).");
var events = int.Parse(Arg("--events") ?? "2000", CultureInfo.InvariantCulture);
var burst = int.Parse(Arg("--burst") ?? "20000", CultureInfo.InvariantCulture);
var payload = new string('x', 64);
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
Console.WriteLine($"events per latency round: {events}, burst: {burst}, payload: 64 chars + timestamp");

for (var round = 1; round <= (Arg("--local-only") is null ? 2 : 0); round++)
{
    Console.WriteLine($"== round {round}");
    var isolation = await IsolationSide.MeasureAsync(redis, events, burst, payload);
    var signalR = await SignalRSide.MeasureAsync(redis, events, burst, payload);
    Print("Isolation.Redis", isolation);
    Print("SignalR Redis backplane", signalR);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"goal p50 no worse than the backplane: {(isolation.P50 <= signalR.P50 ? "MET" : "MISSED")} ({isolation.P50 / signalR.P50:0.00}x); p99: {isolation.P99 / signalR.P99:0.00}x; throughput: {isolation.Throughput / signalR.Throughput:0.00}x"));
}

var (plain, withRedis) = await LocalDelivery.MeasureAsync(redis);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"local delivery: {plain:0.0} ns/event without Redis, {withRedis:0.0} ns/event with Redis configured ({withRedis / plain:0.00}x)"));
return 0;

static void Print(string name, Result r) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{name,-26} p50 {r.P50:0.0} us  p99 {r.P99:0.0} us  throughput {r.Throughput:0} events/s"));

static string? Arg(string name)
{
    var args = Environment.GetCommandLineArgs();
    if (name == "--local-only")
    {
        return Array.IndexOf(args, name) >= 0 ? "yes" : null;
    }

    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal sealed record Result(double P50, double P99, double Throughput)
{
    public static Result From(List<double> latenciesUs, int burst, TimeSpan burstTime)
    {
        latenciesUs.Sort();
        return new Result(latenciesUs[(int)(latenciesUs.Count * 0.50)], latenciesUs[(int)(latenciesUs.Count * 0.99)], burst / burstTime.TotalSeconds);
    }
}

internal sealed record BenchPayload(long SentAt, string Data);

internal static class IsolationSide
{
    public static async Task<Result> MeasureAsync(string redis, int events, int burst, string data)
    {
        var prefix = "bench-" + Guid.NewGuid().ToString("N")[..8];
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var a = await Node.StartAsync(redis, prefix, key);
        await using var b = await Node.StartAsync(redis, prefix, key);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(b.BaseUri, "/events?user=alice"), CancellationToken.None);
        var received = Channel.CreateUnbounded<long>();
        var reader = Task.Run(() => ReadAsync(socket, received.Writer));

        // Wait until A sees alice on B (presence written, cache filled): send until one arrives.
        var runner = a.Services.GetRequiredService<IIsolatedRunner>();
        while (true)
        {
            await runner.RunAsync(new UserExecutionContext("alice"), (scope, ct) => scope.Events.EmitAsync("probe", null, ct).AsTask());
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            try
            {
                await received.Reader.ReadAsync(wait.Token);
                break;
            }
            catch (OperationCanceledException)
            {
            }
        }

        await Task.Delay(200);
        while (received.Reader.TryRead(out _))
        {
        }

        var latencies = new List<double>(events);
        var burstTime = TimeSpan.Zero;
        await runner.RunAsync(new UserExecutionContext("alice"), async (scope, ct) =>
        {
            for (var i = 0; i < events + 100; i++)
            {
                var sent = Stopwatch.GetTimestamp();
                await scope.Events.EmitAsync("agent_thinking", new BenchPayload(sent, data), ct);
                var at = await received.Reader.ReadAsync(ct);
                if (i >= 100)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(sent, at).TotalMicroseconds);
                }
            }

            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < burst; i++)
            {
                await scope.Events.EmitAsync("agent_thinking", new BenchPayload(Stopwatch.GetTimestamp(), data), ct);
            }

            for (var i = 0; i < burst; i++)
            {
                await received.Reader.ReadAsync(ct);
            }

            burstTime = Stopwatch.GetElapsedTime(start);
        });

        socket.Abort();
        return Result.From(latencies, burst, burstTime);
    }

    private static async Task ReadAsync(ClientWebSocket socket, ChannelWriter<long> received)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var count = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None) is var r ? new WebSocketReceiveResult(r.Count, r.MessageType, r.EndOfMessage) : null!;
                    count += result.Count;
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                received.TryWrite(Stopwatch.GetTimestamp());
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private sealed class Node : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Node(WebApplication app, Uri baseUri)
        {
            _app = app;
            BaseUri = baseUri;
        }

        public Uri BaseUri { get; }

        public IServiceProvider Services => _app.Services;

        public static async Task<Node> StartAsync(string redis, string prefix, string key)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddIsolation().AddRedisEventDelivery(o =>
            {
                o.Configuration = redis;
                o.EnvironmentPrefix = prefix;
                o.SigningKey = key;
                o.OutboundQueueCapacity = 1_000_000;
            });
            builder.Services.Configure<EventDeliveryOptions>(o => o.QueueCapacity = 100_000);
            var app = builder.Build();
            app.Urls.Add("http://127.0.0.1:0");
            app.UseWebSockets();
            app.Map("/events", async (HttpContext http, IConnectionRegistry registry) =>
            {
                using var socket = await http.WebSockets.AcceptWebSocketAsync();
                await using var sink = registry.RegisterWebSocket(socket, http.Request.Query["user"].ToString(), http.Connection.Id, http.RequestAborted);
                var buffer = new byte[1024];
                try
                {
                    while ((await socket.ReceiveAsync(buffer, http.RequestAborted)).MessageType != WebSocketMessageType.Close)
                    {
                    }
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
                {
                }
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new Node(app, new UriBuilder(address) { Scheme = "ws" }.Uri);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

internal static class SignalRSide
{
    public static async Task<Result> MeasureAsync(string redis, int events, int burst, string data)
    {
        var prefix = "bench-signalr-" + Guid.NewGuid().ToString("N")[..8];
        await using var a = await StartAsync(redis, prefix);
        await using var b = await StartAsync(redis, prefix);
        var received = Channel.CreateUnbounded<long>();
        await using var client = new HubConnectionBuilder().WithUrl(new Uri(GetAddress(b), "/hub?user=alice")).Build();
        client.On<long, string>("e", (_, _) => received.Writer.TryWrite(Stopwatch.GetTimestamp()));
        await client.StartAsync();
        var hub = a.Services.GetRequiredService<IHubContext<BenchHub>>();

        while (true)
        {
            await hub.Clients.User("alice").SendAsync("e", 0L, "probe");
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            try
            {
                await received.Reader.ReadAsync(wait.Token);
                break;
            }
            catch (OperationCanceledException)
            {
            }
        }

        await Task.Delay(200);
        while (received.Reader.TryRead(out _))
        {
        }

        var latencies = new List<double>(events);
        for (var i = 0; i < events + 100; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            await hub.Clients.User("alice").SendAsync("e", sent, data);
            var at = await received.Reader.ReadAsync();
            if (i >= 100)
            {
                latencies.Add(Stopwatch.GetElapsedTime(sent, at).TotalMicroseconds);
            }
        }

        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < burst; i++)
        {
            await hub.Clients.User("alice").SendAsync("e", Stopwatch.GetTimestamp(), data);
        }

        for (var i = 0; i < burst; i++)
        {
            await received.Reader.ReadAsync();
        }

        var burstTime = Stopwatch.GetElapsedTime(start);
        await client.StopAsync();
        return Result.From(latencies, burst, burstTime);
    }

    private static Uri GetAddress(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

    private static async Task<WebApplication> StartAsync(string redis, string prefix)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSignalR().AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = StackExchange.Redis.RedisChannel.Literal(prefix));
        builder.Services.AddSingleton<IUserIdProvider, QueryUserIdProvider>();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.MapHub<BenchHub>("/hub");
        await app.StartAsync();
        return app;
    }

    internal sealed class BenchHub : Hub
    {
    }

    private sealed class QueryUserIdProvider : IUserIdProvider
    {
        public string? GetUserId(HubConnectionContext connection) => connection.GetHttpContext()?.Request.Query["user"].ToString();
    }
}

internal static class LocalDelivery
{
    private const int Iterations = 2_000_000;

    public static async Task<(double Plain, double WithRedis)> MeasureAsync(string redis)
    {
        await using var plain = new ServiceCollection().AddIsolation().BuildServiceProvider();
        var withRedisServices = new ServiceCollection().AddIsolation().AddRedisEventDelivery(o =>
        {
            o.Configuration = redis;
            o.EnvironmentPrefix = "bench-local-" + Guid.NewGuid().ToString("N")[..8];
            o.SigningKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            o.OutboundQueueCapacity = 1_000_000;
        });
        await using var withRedis = withRedisServices.BuildServiceProvider();
        foreach (var hosted in withRedis.GetServices<Microsoft.Extensions.Hosting.IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        var best = (double.MaxValue, double.MaxValue);
        for (var round = 0; round < 3; round++)
        {
            best = (Math.Min(best.Item1, Measure(plain.GetRequiredService<IConnectionRegistry>())), Math.Min(best.Item2, Measure(withRedis.GetRequiredService<IConnectionRegistry>())));
        }

        return best;
    }

    private static double Measure(IConnectionRegistry registry)
    {
        var sink = new CountingSink("local-user");
        using var registration = registry.Register(sink);
        var envelope = new EventEnvelope("local-user", null, "run", 1, DateTimeOffset.UtcNow, "agent_thinking", null);
        for (var i = 0; i < 100_000; i++)
        {
            registry.Publish(envelope);
        }

        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Iterations; i++)
        {
            registry.Publish(envelope);
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / Iterations;
    }

    private sealed class CountingSink(string userId) : IEventSink
    {
        private long _count;

        public string UserId => userId;

        public string ConnectionId => "c-" + userId;

        public bool TryWrite(EventEnvelope envelope)
        {
            Interlocked.Increment(ref _count);
            return true;
        }
    }
}
