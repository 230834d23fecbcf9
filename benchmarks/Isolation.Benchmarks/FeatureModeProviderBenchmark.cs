using BenchmarkDotNet.Attributes;
using Isolation.AspNetCore.FeatureManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;

namespace Isolation.Benchmarks;

/// <summary>
/// One scope created and disposed with the default mode (the baseline) against one whose mode comes from the
/// feature-flag provider's cache (the user's mode already evaluated): what the flag costs a scope.
/// </summary>
public class FeatureModeProviderBenchmark
{
    private ServiceProvider _default = null!;
    private ServiceProvider _feature = null!;
    private IIsolationScopeFactory _defaultScopes = null!;
    private IIsolationScopeFactory _featureScopes = null!;
    private UserExecutionContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        _context = new UserExecutionContext("bench-user");
        _default = new ServiceCollection().AddIsolation(o => o.Mode = IsolationMode.Enforce).BuildServiceProvider();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["feature_management:feature_flags:0:id"] = "Isolation.Mode",
            ["feature_management:feature_flags:0:enabled"] = "true",
            ["feature_management:feature_flags:0:variants:0:name"] = "Enforce",
            ["feature_management:feature_flags:0:allocation:default_when_enabled"] = "Enforce",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddFeatureManagement();
        services.AddIsolationFeatureManagement(o => o.CacheDuration = TimeSpan.FromHours(1));
        _feature = services.BuildServiceProvider();
        _defaultScopes = _default.GetRequiredService<IIsolationScopeFactory>();
        _featureScopes = _feature.GetRequiredService<IIsolationScopeFactory>();
        var mode = _feature.GetRequiredService<FeatureFlagModeProvider>().RefreshAsync(_context.UserId).AsTask().GetAwaiter().GetResult();
        if (mode != IsolationMode.Enforce)
        {
            throw new InvalidOperationException($"The benchmark flag evaluated to {mode}, not Enforce.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _default.Dispose();
        _feature.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void DefaultMode()
    {
        using var scope = _defaultScopes.CreateScope(_context);
    }

    [Benchmark]
    public void FeatureFlagMode()
    {
        using var scope = _featureScopes.CreateScope(_context);
    }
}
