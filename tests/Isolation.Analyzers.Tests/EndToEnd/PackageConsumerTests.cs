using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.EndToEnd;

/// <summary>
/// Takes Isolation.Core packed into a temporary folder feed (<see cref="PackedFeed"/>) and builds a consumer that references only that package: the
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

    private readonly string _root = TempFolders.Create("isolation-e2e");

    public void Dispose() => TempFolders.Delete(_root);

    [Fact]
    public async Task Build_ConsumerOfPackedIsolationCore_FailsOnBadCodeAndSucceedsOnGoodCode()
    {
        var packed = await PackedFeed.GetAsync();
        var (feed, version) = (packed.Folder, packed.Version);
        var consumer = Path.Combine(_root, "consumer");
        Directory.CreateDirectory(consumer);

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
