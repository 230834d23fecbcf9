using Isolation.Redis.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Isolation.Redis.Tests;

public sealed class RedisEventDeliveryOptionsTests
{
    private static readonly string ValidKey = RedisTestEnvironment.NewKey();

    public static TheoryData<string, string> Invalid => new()
    {
        { "Configuration=", "Configuration is required" },
        { "EnvironmentPrefix=", "EnvironmentPrefix is required" },
        { "EnvironmentPrefix=" + new string('p', 65), "EnvironmentPrefix must be at most 64" },
        { "SigningKey=", "SigningKey is required" },
        { "SigningKey=not base64!", "SigningKey is not valid base64" },
        { "SigningKey=" + Convert.ToBase64String(new byte[16]), "must decode to 32 to 1024 bytes; got 16" },
        { "PreviousSigningKeys:0=" + Convert.ToBase64String(new byte[8]), "PreviousSigningKeys:0 must decode to 32 to 1024 bytes; got 8" },
        { "NodeId= ", "NodeId must be 1 to 128" },
        { "PresenceTtl=00:00:00.500", "PresenceTtl must be at least 1 second" },
        { "PresenceRefreshInterval=00:00:20", "at most half of PresenceTtl" },
        { "PresenceCacheDuration=00:01:00", "PresenceCacheDuration must be zero or more and less than PresenceTtl" },
        { "MaxMessageAge=00:00:00", "MaxMessageAge must be at least 1 second" },
        { "OutboundQueueCapacity=0", "OutboundQueueCapacity must be from 1 to 1,000,000" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void AddRedisEventDelivery_InvalidOption_FailsNamingTheOptionAndTheFix(string setting, string expected)
    {
        var values = Valid();
        var (name, value) = (setting[..setting.IndexOf('=')], setting[(setting.IndexOf('=') + 1)..]);
        values[name] = value;
        using var provider = Build(values);

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RedisEventDeliveryOptions>>().Value);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("Isolation:Redis:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddRedisEventDelivery_Configuration_BindsEveryOption()
    {
        var values = Valid();
        values["NodeId"] = "node-7";
        values["PreviousSigningKeys:0"] = ValidKey;
        values["PresenceTtl"] = "00:00:10";
        values["PresenceRefreshInterval"] = "00:00:03";
        values["PresenceCacheDuration"] = "00:00:00";
        values["MaxMessageAge"] = "00:00:05";
        values["OutboundQueueCapacity"] = "100";
        using var provider = Build(values);

        var options = provider.GetRequiredService<IOptions<RedisEventDeliveryOptions>>().Value;

        Assert.Equal("node-7", options.NodeId);
        Assert.Equal([ValidKey], options.PreviousSigningKeys);
        Assert.Equal(TimeSpan.FromSeconds(10), options.PresenceTtl);
        Assert.Equal(TimeSpan.FromSeconds(3), options.PresenceRefreshInterval);
        Assert.Equal(TimeSpan.Zero, options.PresenceCacheDuration);
        Assert.Equal(TimeSpan.FromSeconds(5), options.MaxMessageAge);
        Assert.Equal(100, options.OutboundQueueCapacity);
        Assert.Equal("node-7", provider.GetRequiredService<RedisConnectionRegistry>().NodeId);
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new RedisEventDeliveryOptions();

        Assert.Null(options.Configuration);
        Assert.Null(options.EnvironmentPrefix);
        Assert.Null(options.NodeId);
        Assert.Null(options.SigningKey);
        Assert.Empty(options.PreviousSigningKeys);
        Assert.Equal(TimeSpan.FromSeconds(30), options.PresenceTtl);
        Assert.Equal(TimeSpan.FromSeconds(10), options.PresenceRefreshInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), options.PresenceCacheDuration);
        Assert.Equal(TimeSpan.FromSeconds(30), options.MaxMessageAge);
        Assert.Equal(10_000, options.OutboundQueueCapacity);
    }

    [Fact]
    public void AddRedisEventDelivery_CalledTwice_OneRegistryReplacesIConnectionRegistry()
    {
        var services = new ServiceCollection().AddIsolation();
        services.AddRedisEventDelivery(o => Fill(o));
        services.AddRedisEventDelivery(o => o.NodeId = "second");
        using var provider = services.BuildServiceProvider();

        var registry = provider.GetRequiredService<IConnectionRegistry>();

        Assert.IsType<RedisConnectionRegistry>(registry);
        Assert.Same(provider.GetRequiredService<RedisConnectionRegistry>(), registry);
        Assert.Equal("second", ((RedisConnectionRegistry)registry).NodeId);
        Assert.Single(provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>());
    }

    [Fact]
    public void NodeId_NotSet_GeneratedUniquePerProcessInstance()
    {
        using var first = new ServiceCollection().AddRedisEventDelivery(o => Fill(o)).BuildServiceProvider();
        using var second = new ServiceCollection().AddRedisEventDelivery(o => Fill(o)).BuildServiceProvider();

        var one = first.GetRequiredService<RedisConnectionRegistry>().NodeId;
        var two = second.GetRequiredService<RedisConnectionRegistry>().NodeId;

        Assert.StartsWith(Environment.MachineName, one, StringComparison.Ordinal);
        Assert.NotEqual(one, two);
    }

    private static void Fill(RedisEventDeliveryOptions o)
    {
        o.Configuration = "127.0.0.1:1";
        o.EnvironmentPrefix = "test";
        o.SigningKey = ValidKey;
    }

    private static Dictionary<string, string?> Valid() => new(StringComparer.Ordinal)
    {
        ["Configuration"] = "127.0.0.1:1",
        ["EnvironmentPrefix"] = "test",
        ["SigningKey"] = ValidKey,
    };

    private static ServiceProvider Build(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values.Select(kv => new KeyValuePair<string, string?>("Isolation:Redis:" + kv.Key, kv.Value))).Build();
        return new ServiceCollection().AddIsolation().AddRedisEventDelivery(configuration.GetSection("Isolation:Redis")).BuildServiceProvider();
    }
}
