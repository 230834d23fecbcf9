using BenchmarkDotNet.Attributes;
using Isolation.AspNetCore.FeatureManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;

namespace Isolation.Benchmarks;

/// <summary>
/// What the feature-flag provider adds to one scope, measured alone: the scope factory without a provider reads the
/// configured mode (the baseline); with <see cref="FeatureFlagModeProvider"/> it calls <c>GetMode</c> (the user's mode
/// already evaluated, so a cache hit) and checks the answer is an <see cref="IsolationMode"/>. The same difference as
/// <see cref="FeatureModeProviderBenchmark"/>, without the ~150 ns of the scope around it and that scope's noise.
/// </summary>
public class FeatureModeLookupBenchmark
{
    private ServiceProvider _services = null!;
    private FeatureFlagModeProvider _provider = null!;
    private UserExecutionContext _context = null!;
    private IsolationMode _configured;

    [GlobalSetup]
    public void Setup()
    {
        _context = new UserExecutionContext("bench-user");
        _configured = IsolationMode.Enforce;
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
        _services = services.BuildServiceProvider();
        _provider = _services.GetRequiredService<FeatureFlagModeProvider>();
        var mode = _provider.RefreshAsync(_context.UserId).AsTask().GetAwaiter().GetResult();
        if (mode != IsolationMode.Enforce || FeatureFlagMode() != IsolationMode.Enforce)
        {
            throw new InvalidOperationException($"The benchmark flag evaluated to {mode}, not Enforce.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    /// <summary>No provider registered: the factory uses <c>IsolationOptions.Mode</c>.</summary>
    [Benchmark(Baseline = true)]
    public IsolationMode ConfiguredMode() => _configured;

    /// <summary>The provider's answer from its cache, checked as the factory checks it.</summary>
    [Benchmark]
    public IsolationMode FeatureFlagMode()
    {
        var mode = ((IIsolationModeProvider)_provider).GetMode(_context);
        return Enum.IsDefined(mode) ? mode : throw new InvalidOperationException("not a mode");
    }
}
