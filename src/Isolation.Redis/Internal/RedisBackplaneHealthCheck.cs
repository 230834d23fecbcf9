using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Isolation.Redis.Internal;

/// <summary>Healthy while events can reach other nodes; Degraded while Redis is unavailable (local delivery still works).</summary>
internal sealed class RedisBackplaneHealthCheck(RedisBackplane backplane) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["node"] = backplane.NodeId,
            ["channel"] = backplane.ChannelName,
        };
        if (backplane.IsAvailable)
        {
            return Task.FromResult(HealthCheckResult.Healthy($"Redis event delivery is available on node {backplane.NodeId}.", data));
        }

        if (backplane.UnavailableSince is { } since)
        {
            data["unavailable_since"] = since;
        }

        var why = backplane.IsStarted
            ? "Redis is unavailable (or this node's channel is not subscribed yet)"
            : "Redis event delivery has not started (the host has not started it)";
        return Task.FromResult(HealthCheckResult.Degraded(
            $"{why}: events for connections on other nodes are dropped and counted as backplane_unavailable; local delivery continues, and remote delivery resumes by itself when Redis returns.",
            data: data));
    }
}
