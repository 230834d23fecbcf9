using System.Text;
using Isolation.AspNetCore.FeatureManagement;
using Isolation.AspNetCore.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.FeatureManagement;

namespace Isolation.AspNetCore.Tests.FeatureManagement;

public sealed class FeatureFlagModeProviderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The rollout of docs/rollout.md as an appsettings.json feature flag: internal users first, then a percentage.</summary>
    internal static string Flag(int enforcePercent, string defaultVariant = "Observe") => $$"""
        {
          "feature_management": {
            "feature_flags": [
              {
                "id": "Isolation.Mode",
                "enabled": true,
                "variants": [ { "name": "Off" }, { "name": "Observe" }, { "name": "Enforce" } ],
                "allocation": {
                  "default_when_enabled": "{{defaultVariant}}",
                  "user": [ { "variant": "Off", "users": [ "legacy-bot" ] } ],
                  "group": [ { "variant": "Enforce", "groups": [ "internal" ] } ],
                  "percentile": [
                    { "variant": "Enforce", "from": 0, "to": {{enforcePercent}} },
                    { "variant": "{{defaultVariant}}", "from": {{enforcePercent}}, "to": 100 }
                  ],
                  "seed": "isolation-rollout"
                }
              }
            ]
          }
        }
        """;

    private static ServiceProvider Build(string json, TimeProvider? time = null, Action<IsolationFeatureOptions>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddFeatureManagement();
        services.AddIsolationFeatureManagement(o =>
        {
            o.GetGroups = user => user.StartsWith("staff-", StringComparison.Ordinal) ? ["internal"] : [];
            configure?.Invoke(o);
        });
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(50)]
    [InlineData(100)]
    public async Task RefreshAsync_RolloutStage_InternalUsersEnforcedAndPercentageOfOthers(int percent)
    {
        await using var services = Build(Flag(percent));
        var provider = services.GetRequiredService<FeatureFlagModeProvider>();

        var enforced = 0;
        for (var i = 0; i < 1000; i++)
        {
            if (await provider.RefreshAsync("user-" + i, Ct) == IsolationMode.Enforce)
            {
                enforced++;
            }
        }

        Assert.Equal(IsolationMode.Enforce, await provider.RefreshAsync("staff-1", Ct));
        Assert.Equal(IsolationMode.Off, await provider.RefreshAsync("legacy-bot", Ct));
        Assert.InRange(enforced, Math.Max(0, (percent * 10) - 40), Math.Min(1000, (percent * 10) + 40));
    }

    [Fact]
    public async Task RefreshAsync_RaisingThePercentage_OnlyMovesUsersUp()
    {
        await using var at10 = Build(Flag(10));
        await using var at50 = Build(Flag(50));
        var first = at10.GetRequiredService<FeatureFlagModeProvider>();
        var second = at50.GetRequiredService<FeatureFlagModeProvider>();

        for (var i = 0; i < 500; i++)
        {
            var user = "user-" + i;
            if (await first.RefreshAsync(user, Ct) == IsolationMode.Enforce)
            {
                Assert.Equal(IsolationMode.Enforce, await second.RefreshAsync(user, Ct)); // sticky: the same seed, the same users first
            }
        }
    }

    [Fact]
    public async Task GetMode_BeforeFirstEvaluation_FallbackThenEvaluatedModeWithoutBlocking()
    {
        await using var services = Build(Flag(100), configure: o => o.FallbackMode = IsolationMode.Off);
        var provider = services.GetRequiredService<FeatureFlagModeProvider>();
        var context = new UserExecutionContext("user-1");

        Assert.Equal(IsolationMode.Off, provider.GetMode(context)); // the first scope: evaluation started in the background

        await Poll.UntilAsync(() => provider.GetMode(context) == IsolationMode.Enforce, "the background evaluation is cached");
    }

    [Fact]
    public async Task GetMode_ThroughScopeFactory_ScopeGetsTheUsersVariant()
    {
        await using var services = Build(Flag(0));
        var provider = services.GetRequiredService<FeatureFlagModeProvider>();
        await provider.RefreshAsync("staff-7", Ct);
        var scopes = services.GetRequiredService<IIsolationScopeFactory>();

        await using var staff = scopes.CreateScope(new UserExecutionContext("staff-7"));
        await using var other = scopes.CreateScope(new UserExecutionContext("user-7")); // not evaluated yet: the fallback

        Assert.Equal(IsolationMode.Enforce, staff.Mode);
        Assert.Equal(IsolationMode.Observe, other.Mode);
    }

    [Fact]
    public async Task GetMode_AfterCacheDuration_StaleModeOnceThenReevaluated()
    {
        var time = new FakeTimeProvider();
        var file = Path.Combine(Path.GetTempPath(), "isolation-aspnet-flag-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, Flag(0), Ct);
        var configuration = new ConfigurationBuilder().AddJsonFile(file, optional: false, reloadOnChange: false).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton<TimeProvider>(time);
        services.AddFeatureManagement();
        services.AddIsolationFeatureManagement(o => o.CacheDuration = TimeSpan.FromSeconds(30));
        await using var provider = services.BuildServiceProvider();
        var modes = provider.GetRequiredService<FeatureFlagModeProvider>();
        var context = new UserExecutionContext("user-3");
        Assert.Equal(IsolationMode.Observe, await modes.RefreshAsync("user-3", Ct));

        // Roll forward to 100 % Enforce: appsettings.json edited and reloaded.
        await File.WriteAllTextAsync(file, Flag(100), Ct);
        configuration.Reload();
        File.Delete(file);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(IsolationMode.Observe, modes.GetMode(context)); // fresh: no evaluation
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(IsolationMode.Observe, modes.GetMode(context)); // stale: served once more while re-evaluating
        await Poll.UntilAsync(() => modes.GetMode(context) == IsolationMode.Enforce, "the re-evaluated mode replaces the stale one");
    }

    [Fact]
    public async Task RefreshAsync_VariantThatIsNoMode_FallbackMode()
    {
        const string Json = """
            { "feature_management": { "feature_flags": [ {
              "id": "Isolation.Mode", "enabled": true,
              "variants": [ { "name": "Strict" } ],
              "allocation": { "default_when_enabled": "Strict" } } ] } }
            """;
        await using var services = Build(Json, configure: o => o.FallbackMode = IsolationMode.Off);

        Assert.Equal(IsolationMode.Off, await services.GetRequiredService<FeatureFlagModeProvider>().RefreshAsync("user-1", Ct));
    }

    [Fact]
    public async Task RefreshAsync_VariantConfigurationValue_WinsOverName()
    {
        const string Json = """
            { "feature_management": { "feature_flags": [ {
              "id": "Isolation.Mode", "enabled": true,
              "variants": [ { "name": "strict", "configuration_value": "enforce" } ],
              "allocation": { "default_when_enabled": "strict" } } ] } }
            """;
        await using var services = Build(Json);

        Assert.Equal(IsolationMode.Enforce, await services.GetRequiredService<FeatureFlagModeProvider>().RefreshAsync("user-1", Ct));
    }

    [Fact]
    public async Task RefreshAsync_FlagMissing_FallbackMode()
    {
        await using var services = Build("{}", configure: o => o.FallbackMode = IsolationMode.Enforce);

        Assert.Equal(IsolationMode.Enforce, await services.GetRequiredService<FeatureFlagModeProvider>().RefreshAsync("user-1", Ct));
    }

    [Fact]
    public async Task GetMode_MoreUsersThanMaxCachedUsers_CacheEmptiedAndRefilled()
    {
        await using var services = Build(Flag(100), configure: o => o.MaxCachedUsers = 2);
        var provider = services.GetRequiredService<FeatureFlagModeProvider>();
        await provider.RefreshAsync("user-1", Ct);
        await provider.RefreshAsync("user-2", Ct);
        Assert.Equal(IsolationMode.Enforce, provider.GetMode(new UserExecutionContext("user-1")));

        provider.GetMode(new UserExecutionContext("user-3")); // a third user: the cache is emptied first

        Assert.Equal(IsolationMode.Observe, provider.GetMode(new UserExecutionContext("user-2"))); // evicted: fallback again
    }

    [Theory]
    [InlineData("FallbackMode")]
    [InlineData("MaxCachedUsers")]
    [InlineData("FeatureName")]
    public void AddIsolationFeatureManagement_InvalidOption_ValidationNamesIt(string option)
    {
        var services = new ServiceCollection().AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddFeatureManagement();
        services.AddIsolationFeatureManagement(o =>
        {
            switch (option)
            {
                case "FallbackMode": o.FallbackMode = (IsolationMode)42; break;
                case "MaxCachedUsers": o.MaxCachedUsers = 0; break;
                default: o.FeatureName = " "; break;
            }
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<FeatureFlagModeProvider>());

        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddIsolationFeatureManagement_WithoutAddFeatureManagement_ClearError()
    {
        var services = new ServiceCollection();
        services.AddIsolationFeatureManagement();
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IIsolationScopeFactory>());

        Assert.Contains("AddFeatureManagement()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddIsolationFeatureManagement_NonPositiveCacheDuration_OptionsValidationFails()
    {
        var services = new ServiceCollection().AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddFeatureManagement();
        services.AddIsolationFeatureManagement(o => o.CacheDuration = TimeSpan.Zero);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<FeatureFlagModeProvider>());

        Assert.Contains("CacheDuration", ex.Message, StringComparison.Ordinal);
    }
}
