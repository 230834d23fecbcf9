using ChatServer.Rollout;
using Isolation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatServer.Tests.Rollout;

public sealed class RolloutModeProviderTests
{
    private const int Users = 20_000;

    [Fact]
    public void GetMode_SameUserManyTimesAndNewInstances_AlwaysTheSameMode()
    {
        var options = new RolloutOptions { EnforcePercent = 30, ObservePercent = 30 };
        for (var i = 0; i < 200; i++)
        {
            var user = "user-" + i;
            var expected = Provider(options).GetMode(new UserExecutionContext(user));
            for (var call = 0; call < 5; call++)
            {
                Assert.Equal(expected, Provider(options).GetMode(new UserExecutionContext(user, "c-" + call, "run-" + call)));
            }
        }
    }

    [Fact]
    public void Bucket_KnownInputs_StableAcrossProcessesAndVersions()
    {
        // Pinned values: a change of the hash would silently move users between modes in the middle of a rollout.
        Assert.Equal(RolloutModeProvider.Bucket("alice", string.Empty), RolloutModeProvider.Bucket("alice", string.Empty));
        Assert.Equal(Expected("alice", string.Empty), RolloutModeProvider.Bucket("alice", string.Empty));
        Assert.Equal(Expected("user-0042", "spring"), RolloutModeProvider.Bucket("user-0042", "spring"));
        Assert.InRange(RolloutModeProvider.Bucket("bob", string.Empty), 0, 99);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(10, 0)]
    [InlineData(50, 25)]
    [InlineData(100, 0)]
    [InlineData(0, 0)]
    public void GetMode_ManyUsers_SharesMatchThePercentages(int enforce, int observe)
    {
        var provider = Provider(new RolloutOptions { EnforcePercent = enforce, ObservePercent = observe });
        var counts = new Dictionary<IsolationMode, int> { [IsolationMode.Off] = 0, [IsolationMode.Observe] = 0, [IsolationMode.Enforce] = 0 };
        for (var i = 0; i < Users; i++)
        {
            counts[provider.GetMode(new UserExecutionContext("user-" + i))]++;
        }

        // 20,000 users: a fair bucket gives each percent point 200 ± a few dozen.
        AssertShare(enforce, counts[IsolationMode.Enforce]);
        AssertShare(observe, counts[IsolationMode.Observe]);
        AssertShare(100 - enforce - observe, counts[IsolationMode.Off]);
    }

    [Fact]
    public void GetMode_RolloutFromObserve10ToEnforce100_UsersOnlyMoveUp()
    {
        IsolationMode[] order = [IsolationMode.Off, IsolationMode.Observe, IsolationMode.Enforce];
        RolloutOptions[] stages =
        [
            new() { EnforcePercent = 0, ObservePercent = 10 },
            new() { EnforcePercent = 0, ObservePercent = 100 },
            new() { EnforcePercent = 10, ObservePercent = 90 },
            new() { EnforcePercent = 50, ObservePercent = 50 },
            new() { EnforcePercent = 100, ObservePercent = 0 },
        ];
        for (var i = 0; i < 2000; i++)
        {
            var context = new UserExecutionContext("user-" + i);
            var previous = -1;
            foreach (var stage in stages)
            {
                var rank = Array.IndexOf(order, Provider(stage).GetMode(context));
                Assert.True(rank >= previous, $"user-{i} moved down at stage Enforce {stage.EnforcePercent}% / Observe {stage.ObservePercent}%.");
                previous = rank;
            }

            Assert.Equal(IsolationMode.Enforce, Provider(stages[^1]).GetMode(context));
        }
    }

    [Fact]
    public void GetMode_ObserveFirst10Percent_ThoseUsersAreTheFirstEnforced()
    {
        var observing = Provider(new RolloutOptions { EnforcePercent = 0, ObservePercent = 10 });
        var enforcing = Provider(new RolloutOptions { EnforcePercent = 10, ObservePercent = 0 });
        for (var i = 0; i < 5000; i++)
        {
            var context = new UserExecutionContext("user-" + i);
            Assert.Equal(observing.GetMode(context) == IsolationMode.Observe, enforcing.GetMode(context) == IsolationMode.Enforce);
        }
    }

    [Fact]
    public void GetMode_DifferentSalt_DifferentUsersForTheSamePercentage()
    {
        var first = Provider(new RolloutOptions { EnforcePercent = 10, Salt = "one" });
        var second = Provider(new RolloutOptions { EnforcePercent = 10, Salt = "two" });
        var differ = 0;
        for (var i = 0; i < 2000; i++)
        {
            var context = new UserExecutionContext("user-" + i);
            if (first.GetMode(context) != second.GetMode(context))
            {
                differ++;
            }
        }

        Assert.InRange(differ, 200, 500);
    }

    [Fact]
    public void GetMode_ConfigurationReloaded_NextScopeUsesTheNewPercentages()
    {
        var configuration = new ConfigurationManager();
        configuration["Isolation:Rollout:EnforcePercent"] = "0";
        configuration["Isolation:Rollout:ObservePercent"] = "0";
        using var services = new ServiceCollection()
            .AddOptions()
            .Configure<RolloutOptions>(configuration.GetSection(RolloutOptions.SectionName))
            .AddSingleton<IIsolationModeProvider, RolloutModeProvider>()
            .BuildServiceProvider();
        var provider = services.GetRequiredService<IIsolationModeProvider>();
        var context = new UserExecutionContext("alice");
        Assert.Equal(IsolationMode.Off, provider.GetMode(context));

        configuration["Isolation:Rollout:EnforcePercent"] = "100";
        ((IConfigurationRoot)configuration).Reload();

        Assert.Equal(IsolationMode.Enforce, provider.GetMode(context));
    }

    [Fact]
    public async Task Scope_CreatedThroughTheServer_ModeComesFromTheRollout()
    {
        await using var server = await Infrastructure.TestChatServer.StartAsync(
            new Dictionary<string, string?> { ["Isolation:Rollout:EnforcePercent"] = "0", ["Isolation:Rollout:ObservePercent"] = "100" },
            TestContext.Current.CancellationToken);
        var scopes = server.Services.GetRequiredService<IIsolationScopeFactory>();
        await using var scope = scopes.CreateScope(new UserExecutionContext("alice"));
        Assert.Equal(IsolationMode.Observe, scope.Mode);
    }

    [Theory]
    [InlineData(-1, 0, "EnforcePercent is -1")]
    [InlineData(101, 0, "EnforcePercent is 101")]
    [InlineData(0, 120, "ObservePercent is 120")]
    [InlineData(60, 50, "more than 100")]
    public void Validate_OutOfRange_FailsNamingTheValue(int enforce, int observe, string expected)
    {
        var result = new RolloutOptionsValidator().Validate(null, new RolloutOptions { EnforcePercent = enforce, ObservePercent = observe });
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InvalidRolloutConfiguration_HostFailsWithTheMessage()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => Infrastructure.TestChatServer.StartAsync(
            new Dictionary<string, string?> { ["Isolation:Rollout:EnforcePercent"] = "70", ["Isolation:Rollout:ObservePercent"] = "40" },
            TestContext.Current.CancellationToken));
        Assert.Contains("more than 100", error.Message, StringComparison.Ordinal);
    }

    private static RolloutModeProvider Provider(RolloutOptions options) =>
        new(new StaticOptionsMonitor(options));

    private static void AssertShare(int percent, int count)
    {
        var expected = Users * percent / 100.0;
        Assert.InRange(count, expected - (Users * 0.015), expected + (Users * 0.015));
    }

    /// <summary>The documented algorithm, written out independently: FNV-1a over salt, 0xFFFF, user id; Murmur3 finalizer; mod 100.</summary>
    private static int Expected(string userId, string salt)
    {
        uint hash = 2166136261;
        foreach (var c in salt + '\uFFFF' + userId)
        {
            hash = (hash ^ c) * 16777619;
        }

        hash ^= hash >> 16;
        hash *= 0x85EBCA6B;
        hash ^= hash >> 13;
        hash *= 0xC2B2AE35;
        hash ^= hash >> 16;
        return (int)(hash % 100);
    }

    private sealed class StaticOptionsMonitor(RolloutOptions value) : IOptionsMonitor<RolloutOptions>
    {
        public RolloutOptions CurrentValue => value;

        public RolloutOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<RolloutOptions, string?> listener) => null;
    }
}
