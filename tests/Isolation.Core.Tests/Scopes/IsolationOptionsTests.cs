using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Isolation.Tests.Scopes;

public sealed class IsolationOptionsTests
{
    [Fact]
    public void Defaults_AreDocumentedValues()
    {
        var options = new IsolationOptions();

        Assert.Equal(IsolationMode.Enforce, options.Mode);
        Assert.Equal(LeakDetectionLevel.Sampled, options.LeakDetection);
        Assert.Equal(128, options.LeakSamplingInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), options.RetainedAgentGracePeriod);
        Assert.Null(options.DefaultDeadline);
    }

    [Fact]
    public async Task AddIsolation_Configuration_BindsSection()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Isolation:Mode"] = "Observe",
            ["Isolation:LeakDetection"] = "Paranoid",
            ["Isolation:LeakSamplingInterval"] = "16",
            ["Isolation:DefaultDeadline"] = "00:00:05",
        }).Build();
        var services = new ServiceCollection().AddIsolation(configuration.GetSection(IsolationOptions.SectionName));
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<IsolationOptions>>().Value;

        Assert.Equal(IsolationMode.Observe, options.Mode);
        Assert.Equal(LeakDetectionLevel.Paranoid, options.LeakDetection);
        Assert.Equal(16, options.LeakSamplingInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.DefaultDeadline);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1_000_001)]
    public async Task Validate_BadSamplingInterval_FailsAtFirstUseWithMessage(int interval)
    {
        await using var provider = new ServiceCollection().AddIsolation(o => o.LeakSamplingInterval = interval).BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IIsolationScopeFactory>());

        Assert.Contains($"Isolation:LeakSamplingInterval is {interval}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("from 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_SeveralBadValues_ReportsEach()
    {
        await using var provider = new ServiceCollection().AddIsolation(o =>
        {
            o.Mode = (IsolationMode)42;
            o.RetainedAgentGracePeriod = TimeSpan.FromSeconds(-1);
            o.DefaultDeadline = TimeSpan.Zero;
        }).BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IsolationMonitor>());

        Assert.Equal(3, ex.Failures.Count());
        Assert.Contains(ex.Failures, f => f.Contains("Isolation:Mode is 42", StringComparison.Ordinal) && f.Contains("Off, Observe or Enforce", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("RetainedAgentGracePeriod", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("DefaultDeadline", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddIsolation_CalledTwice_RegistersOnce()
    {
        var services = new ServiceCollection().AddIsolation().AddIsolation(o => o.Mode = IsolationMode.Observe);
        await using var provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(IIsolationScopeFactory));
        Assert.Single(provider.GetServices<IIsolationScopeFactory>());
        Assert.Equal(IsolationMode.Observe, provider.GetRequiredService<IOptions<IsolationOptions>>().Value.Mode);
    }

    [Fact]
    public async Task CreateScope_DefaultDeadline_AppliesWhenNoneGiven()
    {
        await using var host = TestHost.Create(options: o => o.DefaultDeadline = TimeSpan.FromSeconds(10));
        await using var scope = host.CreateScope();

        host.Time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(scope.Aborted.IsCancellationRequested);
        Assert.True(scope.DeadlineExceeded);
    }
}
