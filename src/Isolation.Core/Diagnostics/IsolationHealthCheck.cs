using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Isolation.Diagnostics;

/// <summary>
/// Unhealthy while a violation or leak happened within the window; Degraded when the 95th percentile of recent agent
/// creations exceeds the budget; Healthy otherwise. Reads the monitor; holds no state of its own.
/// </summary>
internal sealed class IsolationHealthCheck : IHealthCheck
{
    private readonly IsolationMonitor _monitor;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<IsolationHealthCheckOptions> _options;

    public IsolationHealthCheck(IsolationMonitor monitor, TimeProvider time, IOptionsMonitor<IsolationHealthCheckOptions> options)
    {
        _monitor = monitor;
        _time = time;
        _options = options;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var options = _options.Get(context.Registration.Name);
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["score"] = _monitor.GetScore(),
            ["finished_scopes"] = _monitor.FinishedScopes,
            ["violations"] = _monitor.TotalViolations,
        };
        foreach (var kind in Enum.GetValues<ViolationKind>())
        {
            var count = _monitor.GetViolationCount(kind);
            if (count != 0)
            {
                data["violations." + kind.ToTagValue()] = count;
            }
        }

        if (_monitor.LastViolation is { } last && _time.GetUtcNow() - last.At < options.ViolationWindow)
        {
            return Task.FromResult(new HealthCheckResult(
                options.FailureStatus,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "Isolation is broken: the last violation ({0} on {1}) was {2:0.#} s ago, within the {3:0.#} s window. See the IsolationViolation/IsolationLeak logs (event ids 1001/1002).",
                    last.Kind.ToTagValue(),
                    last.ResourceType,
                    (_time.GetUtcNow() - last.At).TotalSeconds,
                    options.ViolationWindow.TotalSeconds),
                exception: null,
                data: data));
        }

        var latencies = _monitor.CreationLatencies;
        if (latencies is not null && latencies.Count >= options.MinimumCreationSamples && latencies.Percentile(95) is { } p95)
        {
            data["agent_creation_p95_ms"] = p95 * 1000;
            if (p95 > options.AgentCreationBudget.TotalSeconds)
            {
                return Task.FromResult(HealthCheckResult.Degraded(
                    string.Format(
                        CultureInfo.InvariantCulture,
                        "Agent creation is slow: the 95th percentile of the last {0} creations is {1:0.###} ms, over the {2:0.###} ms budget. Look for expensive agent constructors or scoped dependencies.",
                        latencies.Count,
                        p95 * 1000,
                        options.AgentCreationBudget.TotalMilliseconds),
                    data: data));
            }
        }

        return Task.FromResult(HealthCheckResult.Healthy("Isolation holds.", data));
    }
}
