using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Isolation.Tests.DependencyInjection;

/// <summary>
/// <c>AddIsolation(configuration)</c>: every value that cannot be read and every unknown key is one line of an
/// <see cref="OptionsValidationException"/> at host start, naming the key, the value and what is accepted.
/// </summary>
public sealed class IsolationConfigurationTests
{
    [Theory]
    [InlineData("Isolation:Mode", "Bogus", "Isolation:Mode is 'Bogus', which is not a mode. Use Off, Observe or Enforce.")]
    [InlineData("Isolation:Mode", "99", "Isolation:Mode is '99', which is not a mode. Use Off, Observe or Enforce.")]
    [InlineData("Isolation:Mode", "Off,Enforce", "Isolation:Mode is 'Off,Enforce', which is not a mode. Use Off, Observe or Enforce.")]
    [InlineData("Isolation:LeakDetection", "Sometimes", "Isolation:LeakDetection is 'Sometimes', which is not a level. Use Disabled, Sampled, Full or Paranoid.")]
    [InlineData("Isolation:LeakSamplingInterval", "many", "Isolation:LeakSamplingInterval is 'many', which is not a whole number. Use a whole number from 1 (track every scope) to 1000000.")]
    [InlineData("Isolation:LeakSamplingInterval", "1.5", "Isolation:LeakSamplingInterval is '1.5', which is not a whole number.")]
    [InlineData("Isolation:RetainedAgentGracePeriod", "30s", "Isolation:RetainedAgentGracePeriod is '30s', which is not a time span. Use [d.]hh:mm:ss, e.g. 00:00:30 for 30 seconds; zero or more.")]
    [InlineData("Isolation:DefaultDeadline", "one minute", "Isolation:DefaultDeadline is 'one minute', which is not a time span.")]
    [InlineData("Isolation:Runner:DefaultDeadline", "soon", "Isolation:Runner:DefaultDeadline is 'soon', which is not a time span.")]
    [InlineData("Isolation:Runner:MaxConcurrentRunsPerUser", "four", "Isolation:Runner:MaxConcurrentRunsPerUser is 'four', which is not a whole number. Use a whole number from 1 to 10000.")]
    [InlineData("Isolation:Runner:QueuedRunsPerUser", "-", "Isolation:Runner:QueuedRunsPerUser is '-', which is not a whole number.")]
    [InlineData("Isolation:Runner:AbandonedWorkTimeout", "10", "Isolation:Runner:AbandonedWorkTimeout is '10', which is not a time span.")]
    [InlineData("Isolation:Runner:MaxAbandonedRuns", "lots", "Isolation:Runner:MaxAbandonedRuns is 'lots', which is not a whole number.")]
    [InlineData("Isolation:Events:QueueCapacity", "big", "Isolation:Events:QueueCapacity is 'big', which is not a whole number. Use a whole number from 1 to 100000.")]
    [InlineData("Isolation:Events:QueueFullMode", "Drop", "Isolation:Events:QueueFullMode is 'Drop', which is not a mode. Use DropOldest, DropNewest or CloseConnection.")]
    [InlineData("Isolation:Events:SendTimeout", "1 minute", "Isolation:Events:SendTimeout is '1 minute', which is not a time span.")]
    [InlineData("Isolation:Events:MaxConnectionsPerUser", "unlimited", "Isolation:Events:MaxConnectionsPerUser is 'unlimited', which is not a whole number. Use a whole number from 1 to 10000.")]
    [InlineData("Isolation:Events:PayloadTypeInfoResolver", "ChatJsonContext", "Isolation:Events:PayloadTypeInfoResolver is 'ChatJsonContext', which is not something configuration can set. Set it in code")]
    public async Task StartAsync_UnreadableValue_FailsWithOneLineNamingKeyValueAndAcceptedValues(string key, string value, string expected)
    {
        var failure = await StartAsync(new() { [key] = value });

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
        var line = Assert.Single(failure.Failures);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\n', failure.Message);
    }

    [Theory]
    [InlineData("Isolation:Modee", "Enforce", "Isolation:Modee is not an option of Isolation; it would be ignored. Did you mean Mode? The options are Mode, LeakDetection, LeakSamplingInterval, RetainedAgentGracePeriod, DefaultDeadline and the sections Runner, Events.")]
    [InlineData("Isolation:Runer", "x", "Isolation:Runer is not an option of Isolation; it would be ignored. Did you mean Runner?")]
    [InlineData("Isolation:Colour", "blue", "Isolation:Colour is not an option of Isolation; it would be ignored. The options are")]
    [InlineData("Isolation:Runner:MaxConcurrentRuns", "4", "Isolation:Runner:MaxConcurrentRuns is not an option of Isolation:Runner; it would be ignored.")]
    [InlineData("Isolation:Runner:Limits:PerUser", "4", "Isolation:Runner:Limits is not an option of Isolation:Runner; it would be ignored.")]
    [InlineData("Isolation:Events:QueueCapasity", "64", "Isolation:Events:QueueCapasity is not an option of Isolation:Events; it would be ignored. Did you mean QueueCapacity?")]
    [InlineData("Isolation:Mode:Default", "Enforce", "Isolation:Mode is a section, but Mode takes one value: Use Off, Observe or Enforce.")]
    public async Task StartAsync_UnknownKey_IsReportedNotIgnored(string key, string value, string expected)
    {
        var failure = await StartAsync(new() { [key] = value });

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
        Assert.Single(failure.Failures);
    }

    [Fact]
    public async Task StartAsync_SeveralProblems_ReportsEachOnItsOwnLine()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Isolation:Mode"] = "Bogus",
            ["Isolation:Modee"] = "Observe",
            ["Isolation:Runner:MaxConcurrentRunsPerUser"] = "0",
            ["Isolation:Events:SendTimeout"] = "x",
        });
        builder.Services.AddIsolation(builder.Configuration.GetSection(IsolationOptions.SectionName));
        using var host = builder.Build();

        // One OptionsValidationException per options type; the host wraps more than one in an AggregateException.
        var error = await Assert.ThrowsAsync<AggregateException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        var failures = error.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures).ToArray();
        Assert.Equal(4, failures.Length);
        Assert.Contains(failures, f => f.StartsWith("Isolation:Mode is 'Bogus'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Isolation:Modee is not an option of Isolation", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Isolation:Runner:MaxConcurrentRunsPerUser is 0; it must be from 1 to 10000", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Isolation:Events:SendTimeout is 'x', which is not a time span", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddIsolation_ValidConfiguration_BindsEverySectionIgnoringCase()
    {
        var configuration = Configuration(new()
        {
            ["Isolation:mode"] = "observe",
            ["Isolation:LeakDetection"] = "Full",
            ["Isolation:LeakSamplingInterval"] = " 8 ",
            ["Isolation:RetainedAgentGracePeriod"] = "00:00:05",
            ["Isolation:DefaultDeadline"] = "1.00:00:00",
            ["Isolation:Runner:DefaultDeadline"] = "00:00:20",
            ["Isolation:Runner:MaxConcurrentRunsPerUser"] = "2",
            ["Isolation:Runner:QueuedRunsPerUser"] = "1",
            ["Isolation:Runner:AbandonedWorkTimeout"] = "00:00:03",
            ["Isolation:Runner:MaxAbandonedRuns"] = "7",
            ["Isolation:Runner:FailureMessage"] = "Sorry.",
            ["Isolation:Events:QueueCapacity"] = "32",
            ["Isolation:Events:QueueFullMode"] = "DropNewest",
            ["Isolation:Events:SendTimeout"] = "00:00:02",
            ["Isolation:Events:MaxConnectionsPerUser"] = "3",
            ["Isolation:Rollout:EnforcePercent"] = "100", // an application's own sub-section: left alone
            ["Isolation:Redis:Prefix"] = "chat", // an integration's sub-section: left alone
            ["Isolation:LeakDetection2"] = null, // no value and no children: nothing to report
        });
        await using var provider = new ServiceCollection().AddIsolation(configuration.GetSection(IsolationOptions.SectionName)).BuildServiceProvider();

        var isolation = provider.GetRequiredService<IOptions<IsolationOptions>>().Value;
        var runner = provider.GetRequiredService<IOptions<IsolatedRunnerOptions>>().Value;
        var events = provider.GetRequiredService<IOptions<EventDeliveryOptions>>().Value;

        Assert.Equal((IsolationMode.Observe, LeakDetectionLevel.Full, 8, TimeSpan.FromSeconds(5), TimeSpan.FromDays(1)),
            (isolation.Mode, isolation.LeakDetection, isolation.LeakSamplingInterval, isolation.RetainedAgentGracePeriod, isolation.DefaultDeadline));
        Assert.Equal((TimeSpan.FromSeconds(20), 2, 1, TimeSpan.FromSeconds(3), 7, "Sorry."),
            (runner.DefaultDeadline, runner.MaxConcurrentRunsPerUser, runner.QueuedRunsPerUser, runner.AbandonedWorkTimeout, runner.MaxAbandonedRuns, runner.FailureMessage));
        Assert.Equal((32, EventQueueFullMode.DropNewest, TimeSpan.FromSeconds(2), 3),
            (events.QueueCapacity, events.QueueFullMode, events.SendTimeout, events.MaxConnectionsPerUser));
    }

    [Fact]
    public async Task AddIsolation_EmptyValue_LeavesWhatCodeConfigured()
    {
        var configuration = Configuration(new() { ["Isolation:Mode"] = "", ["Isolation:DefaultDeadline"] = " " });
        var services = new ServiceCollection()
            .AddIsolation(o => (o.Mode, o.DefaultDeadline) = (IsolationMode.Observe, TimeSpan.FromSeconds(9)))
            .AddIsolation(configuration.GetSection(IsolationOptions.SectionName));
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<IsolationOptions>>().Value;

        Assert.Equal((IsolationMode.Observe, TimeSpan.FromSeconds(9)), (options.Mode, options.DefaultDeadline));
    }

    [Fact]
    public async Task GetRequiredService_WithoutHost_BadValueFailsAtFirstUse()
    {
        var configuration = Configuration(new() { ["Isolation:Mode"] = "Strict" });
        await using var provider = new ServiceCollection().AddIsolation(configuration.GetSection(IsolationOptions.SectionName)).BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IIsolationScopeFactory>());

        Assert.Equal("Isolation:Mode is 'Strict', which is not a mode. Use Off, Observe or Enforce.", Assert.Single(failure.Failures));
    }

    private static IConfigurationRoot Configuration(Dictionary<string, string?> values)
        => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static async Task<OptionsValidationException> StartAsync(Dictionary<string, string?> values)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(values);
        builder.Logging.ClearProviders();
        builder.Services.AddIsolation(builder.Configuration.GetSection(IsolationOptions.SectionName));
        using var host = builder.Build();

        return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
    }
}
