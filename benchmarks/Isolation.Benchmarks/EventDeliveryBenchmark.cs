using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Benchmarks;

/// <summary>
/// Delivering one envelope to one user while other users hold 100, 1,000 or 10,000 connections (one each). The baseline
/// is the least a per-user router can do: look the user up in a dictionary of sink arrays and write to each.
/// <c>Registry</c> is Isolation's delivery (the same lookup, plus the owner check and drop accounting). <c>ScanAll</c> is what a broadcasting connection manager does even
/// when it filters by user: visit every connection. Goal: <c>Registry</c> costs the same whatever the number of connections.
/// </summary>
public class EventDeliveryBenchmark
{
    private ServiceProvider _provider = null!;
    private ConnectionRegistry _registry = null!;
    private IDisposable[] _registrations = null!;
    private CountingSink[] _all = null!;
    private readonly Dictionary<string, IEventSink[]> _byUser = new(StringComparer.Ordinal);
    private IEventSink _target = null!;
    private EventEnvelope _envelope = null!;

    [Params(100, 1_000, 10_000)]
    public int Connections { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection().AddIsolation().BuildServiceProvider();
        _registry = _provider.GetRequiredService<ConnectionRegistry>();
        _all = new CountingSink[Connections];
        _registrations = new IDisposable[Connections];
        for (var i = 0; i < Connections; i++)
        {
            _all[i] = new CountingSink("user-" + i, "c-" + i);
            _registrations[i] = _registry.Register(_all[i]);
            _byUser.Add(_all[i].UserId, [_all[i]]);
        }

        _target = _all[Connections / 2];
        var context = new UserExecutionContext(_target.UserId, _target.ConnectionId);
        _envelope = new EventEnvelope(context.UserId, context.ConnectionId, context.RunId, 1, DateTimeOffset.UnixEpoch, AgentEventTypes.AgentThinking, payload: null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _provider.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int DictionaryLookup()
    {
        if (!_byUser.TryGetValue(_envelope.UserId, out var sinks))
        {
            return 0;
        }

        var queued = 0;
        foreach (var sink in sinks)
        {
            if (sink.TryWrite(_envelope))
            {
                queued++;
            }
        }

        return queued;
    }

    [Benchmark]
    public int Registry() => _registry.Publish(_envelope).Delivered;

    [Benchmark]
    public int ScanAll()
    {
        var queued = 0;
        foreach (var sink in _all)
        {
            if (string.Equals(sink.UserId, _envelope.UserId, StringComparison.Ordinal) && sink.TryWrite(_envelope))
            {
                queued++;
            }
        }

        return queued;
    }
}
