using System.Globalization;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.EndToEnd;

/// <summary>
/// Packs Isolation.Core into a temporary folder feed and builds a consumer that references only that package: the
/// analyzers arrive with it, bad code fails the build with exactly the expected ISO diagnostics, good code builds.
/// Restore is offline: the feed folder for Isolation.Core, the machine's package folder (as a fallback folder) for the rest.
/// </summary>
[Collection(DotNetCliCollection.Name)]
public sealed class PackageConsumerTests : IDisposable
{
    private const string BadCode = """
        using System;
        using System.Collections.Generic;
        using System.Data.Common;
        using System.Threading.Tasks;
        using Isolation;
        using Microsoft.Extensions.DependencyInjection;

        namespace Consumer;

        public sealed class TriageAgent : IAgent
        {
            private static int _runs; // [ISO005 error]
        }

        public static class Registry
        {
            private static readonly Dictionary<string, TriageAgent> Agents = new(); // [ISO002 error]
            private static DbConnection? _shared; // [ISO102 error]
        }

        public sealed class AgentCache
        {
            private readonly Dictionary<string, TriageAgent> _byUser = new(); // [ISO003 error]
        }

        public static class Startup
        {
            public static void Configure(IServiceCollection services)
            {
                services.AddSingleton<TriageAgent>(); // [ISO001 error]
                services.AddSingleton<AgentCache>();
            }

            public static object Make() => new Registry2(new TriageAgent()); // [ISO004 warning]
        }

        public sealed class Registry2 { public Registry2(object o) { } }
        """;

    private const string GoodCode = """
        using System.Threading.Tasks;
        using Isolation;
        using Microsoft.Extensions.DependencyInjection;

        namespace Consumer;

        public sealed class TriageAgent : IAgent
        {
            private readonly System.Collections.Generic.List<string> _notes = new();
        }

        public sealed class AgentService
        {
            private readonly IAgentFactory<TriageAgent> _factory;
            public AgentService(IAgentFactory<TriageAgent> factory) => _factory = factory;
            public TriageAgent Create(IsolationScope scope) => _factory.Create(scope);
        }

        public static class Startup
        {
            public static void Configure(IServiceCollection services)
            {
                services.AddIsolation();
                services.AddIsolatedAgent<TriageAgent>();
                services.AddSingleton<AgentService>();
            }
        }
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "isolation-e2e-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A build server may still hold a file for a moment; the temp folder is cleaned by the OS.
        }
    }

    [Fact]
    public async Task Build_ConsumerOfPackedIsolationCore_FailsOnBadCodeAndSucceedsOnGoodCode()
    {
        var version = "0.0.0-e2e." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        var feed = Path.Combine(_root, "feed");
        var consumer = Path.Combine(_root, "consumer");
        Directory.CreateDirectory(consumer);

        var pack = await DotNetCli.RunAsync(
            Repository.Root,
            "pack", Path.Combine("src", "Isolation.Core", "Isolation.Core.csproj"),
            "--no-build", "-c", DotNetCli.Configuration, "-o", feed, "-p:PackageVersion=" + version, "-p:IncludeSymbols=false", "-nr:false");
        Assert.True(pack.ExitCode == 0, "pack failed:\n" + pack.Output);
        Assert.True(File.Exists(Path.Combine(feed, $"Isolation.Core.{version}.nupkg")), pack.Output);

        WriteConsumer(consumer, feed, version);
        File.WriteAllText(Path.Combine(consumer, "Code.cs"), BadCode);

        var bad = await DotNetCli.RunAsync(consumer, "build", "-c", "Debug", "-nr:false", "-p:UseSharedCompilation=false");
        Assert.True(bad.ExitCode != 0, "The build of bad code succeeded:\n" + bad.Output);
        Assert.Equal(DotNetCli.ExpectedDiagnostics("Code.cs", BadCode), DotNetCli.IsolationDiagnostics(bad.Output));

        File.WriteAllText(Path.Combine(consumer, "Code.cs"), GoodCode);
        var good = await DotNetCli.RunAsync(consumer, "build", "-c", "Debug", "--no-restore", "-nr:false", "-p:UseSharedCompilation=false");
        Assert.True(good.ExitCode == 0, "The build of good code failed:\n" + good.Output);
        Assert.Empty(DotNetCli.IsolationDiagnostics(good.Output));
    }

    private static void WriteConsumer(string consumer, string feed, string version)
    {
        var globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

        // Stop MSBuild from walking up into any Directory.Build.* above the temp folder.
        File.WriteAllText(Path.Combine(consumer, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(consumer, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="e2e" value="{feed}" />
              </packageSources>
              <fallbackPackageFolders>
                <clear />
                <add key="machine" value="{globalPackages}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <RestorePackagesPath>{Path.Combine(consumer, "packages")}</RestorePackagesPath>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Isolation.Core" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
    }
}
