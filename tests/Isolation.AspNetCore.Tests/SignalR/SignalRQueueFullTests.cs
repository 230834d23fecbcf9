using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Isolation.AspNetCore.Tests.Support;
using Isolation.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Isolation.AspNetCore.Tests.SignalR;

/// <summary>
/// A real SignalR client that stops reading while a run floods it: the sink's queue fills, and
/// <see cref="EventDeliveryOptions.QueueFullMode"/> decides which events survive.
/// </summary>
public sealed class SignalRQueueFullTests
{
    private const int Capacity = 4;
    private const int Thinking = 48; // events of the flood: agent_started, 48 × agent_thinking, agent_completed

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TryWrite_DropOldestStalledClient_KeepsNewestEventsAndCountsOldestAsQueueFull()
    {
        var (received, dropped) = await FloodStalledClientAsync(EventQueueFullMode.DropOldest);
        var total = Thinking + 2;
        var sequences = received.Select(e => e.Sequence).ToList();

        Assert.True(AgentEventTypes.IsTerminal(received[^1].Type));
        Assert.Equal(total, received[^1].Sequence);
        Assert.Equal(sequences.Order(), sequences); // in order, with a gap
        for (var s = total - Capacity; s < total; s++)
        {
            Assert.Contains(s, sequences); // the newest non-terminal events were kept
        }

        Assert.True(sequences.Count < total, "a stalled client with a queue of 4 cannot get all 50 events");
        Assert.Equal(total - sequences.Count, dropped["queue_full"]); // every missing event is counted, as the oldest it was
        Assert.False(dropped.ContainsKey("sink_rejected")); // nothing newer was refused
    }

    [Fact]
    public async Task TryWrite_DropNewestStalledClient_KeepsOldestEventsAndRefusesNewest()
    {
        var (received, dropped) = await FloodStalledClientAsync(EventQueueFullMode.DropNewest);
        var total = Thinking + 2;
        var sequences = received.Select(e => e.Sequence).ToList();

        Assert.True(AgentEventTypes.IsTerminal(received[^1].Type));
        Assert.Equal(total, received[^1].Sequence); // the terminal event is never refused
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(Enumerable.Range(1, Capacity).Select(i => (long)i), sequences.Take(Capacity)); // the earliest events were kept
        for (var s = total - Capacity; s < total; s++)
        {
            Assert.DoesNotContain(s, sequences); // the newest non-terminal events were refused
        }
        Assert.Equal(total - sequences.Count, dropped["sink_rejected"]);
        Assert.False(dropped.ContainsKey("queue_full")); // nothing queued was given up
    }

    private static async Task<(List<(long Sequence, string Type)> Received, Dictionary<string, long> Dropped)> FloodStalledClientAsync(EventQueueFullMode mode)
    {
        await using var host = await SignalRHosts.StartAsync(services => services.Configure<EventDeliveryOptions>(o =>
        {
            o.QueueCapacity = Capacity;
            o.QueueFullMode = mode;
            o.SendTimeout = TimeSpan.FromSeconds(60);
        }));
        using var drops = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), IsolationTelemetry.MeterName, IsolationTelemetry.EventsDropped);
        var registry = host.Services.GetRequiredService<IConnectionRegistry>();
        var probe = host.Services.GetRequiredService<HubProbe>();

        // Handshake, start a flood of 1 MB events, and read nothing until the run has ended: the server's buffers towards
        // this client fill, the sink's writer waits on its send, and the queue overflows.
        using var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri(new Uri("ws://" + host.Address.Authority), "/chat?user=stalled"), Ct);
        await SendFrameAsync(client, """{"protocol":"json","version":1}""");
        var reader = new FrameReader(client);
        Assert.Equal("{}", await reader.NextAsync());
        await Poll.UntilAsync(() => registry.GetConnectionCount("stalled") == 1, "the stalled client's connection is registered");
        await SendFrameAsync(client, "{\"type\":1,\"target\":\"Flood\",\"arguments\":[" + Thinking + ",1048576]}");
        await Poll.UntilAsync(() => !probe.Runs.IsEmpty, "the flood run started");
        Assert.Equal(RunStatus.Completed, (await probe.Runs.Values.Single().WaitAsync(TimeSpan.FromSeconds(30), Ct)).Status);

        // Now read everything that survived, up to the run's terminal event.
        var received = new List<(long Sequence, string Type)>();
        while (received.Count == 0 || !AgentEventTypes.IsTerminal(received[^1].Type))
        {
            using var json = JsonDocument.Parse(await reader.NextAsync());
            var root = json.RootElement;
            if (root.GetProperty("type").GetInt32() == 1 && root.GetProperty("target").GetString() == "isolation")
            {
                var envelope = root.GetProperty("arguments")[0];
                received.Add((envelope.GetProperty("sequence").GetInt64(), envelope.GetProperty("type").GetString()!));
            }
        }

        var dropped = drops.GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags[IsolationTelemetry.DropReasonTag]!)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        return (received, dropped);
    }

    private static Task SendFrameAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json + "\u001e"), WebSocketMessageType.Text, endOfMessage: true, Ct);

    /// <summary>Splits what a raw WebSocket receives into SignalR JSON records (each ends with 0x1E).</summary>
    private sealed class FrameReader(ClientWebSocket socket)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly MemoryStream _pending = new();

        public async Task<string> NextAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            while (true)
            {
                var data = _pending.GetBuffer().AsSpan(0, (int)_pending.Length);
                var end = data.IndexOf((byte)0x1E);
                if (end >= 0)
                {
                    var record = Encoding.UTF8.GetString(data[..end]);
                    var rest = data[(end + 1)..].ToArray();
                    _pending.SetLength(0);
                    _pending.Write(rest);
                    return record;
                }

                var result = await socket.ReceiveAsync(_buffer, timeout.Token);
                Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
                _pending.Write(_buffer, 0, result.Count);
            }
        }
    }
}
