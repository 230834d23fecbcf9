using System.Globalization;
using System.Text;
using Basic.Reference.Assemblies;
using Isolation.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Isolation.Analyzers.Benchmarks;

/// <summary>
/// Generates a large chat-backend-shaped project: per unit an agent, a registry, a repository, a controller-like
/// handler, a background worker and ordinary business code. One unit in ten contains the isolation bugs every rule
/// looks for; the rest is correct code the rules must pass over quickly.
/// </summary>
internal static class LargeProject
{
    public const int DefaultUnits = 1500;

    /// <summary>The project of <paramref name="units"/> units parsed and compiled as a library against the .NET 8 reference assemblies.</summary>
    public static CSharpCompilation Compile(int units)
    {
        var parseOptions = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = Generate(units).Select(f => CSharpSyntaxTree.ParseText(f.Text, parseOptions, f.Name)).ToArray();
        return CSharpCompilation.Create("Large", trees, Net80.References.All, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
    }

    public static IEnumerable<(string Name, string Text)> Generate(int units)
    {
        yield return (Stubs.FileName, Stubs.Source);
        var startup = new StringBuilder("using Microsoft.Extensions.DependencyInjection;\n\nnamespace Gen;\n\npublic static class Startup\n{\n    public static void Configure(IServiceCollection services)\n    {\n");
        for (var i = 0; i < units; i++)
        {
            var bad = i % 10 == 0;
            yield return ($"Unit{i}.cs", Unit(i, bad));
            startup.Append(CultureInfo.InvariantCulture, $"        services.AddIsolatedAgent<Gen.Unit{i}.Agent>();\n");
            startup.Append(CultureInfo.InvariantCulture, $"        services.AddSingleton<Gen.Unit{i}.Registry>();\n");
            startup.Append(CultureInfo.InvariantCulture, $"        services.AddScoped<Gen.Unit{i}.Repository>();\n");
            startup.Append(CultureInfo.InvariantCulture, $"        services.AddHostedService<Gen.Unit{i}.Worker>();\n");
            if (bad)
            {
                startup.Append(CultureInfo.InvariantCulture, $"        services.AddSingleton<Gen.Unit{i}.Agent>();\n");
                startup.Append(CultureInfo.InvariantCulture, $"        services.AddSingleton<Gen.Unit{i}.AppDb>();\n");
            }
        }

        startup.Append("    }\n}\n");
        yield return ("Startup.cs", startup.ToString());
    }

    private static string Unit(int i, bool bad)
    {
        var registryField = bad
            ? "private readonly Dictionary<string, Agent> _agents = new(); private static readonly ConcurrentDictionary<string, Agent> Cache = new(); private static System.Data.Common.DbConnection? _shared;"
            : "private readonly IAgentFactory<Agent> _factory;";
        var count = bad ? "_requests++;" : string.Empty;
        var registryCtor = bad ? "public Registry() { }" : "public Registry(IAgentFactory<Agent> factory) => _factory = factory;";
        var staticState = bad ? "private static int _requests;" : "private static readonly string[] Commands = { \"help\", \"reset\" };";
        var workerField = bad ? "private readonly AppDb _db = new();" : "private readonly IDbContextFactory<AppDb> _factory;";
        var workerCtor = bad ? "public Worker() { }" : "public Worker(IDbContextFactory<AppDb> factory) => _factory = factory;";
        var workerBody = bad
            ? "_ = Task.Run(() => _db.SaveChangesAsync()); await Task.Delay(1000, stoppingToken);"
            : "await using var db = _factory.CreateDbContext(); await db.SaveChangesAsync(stoppingToken);";
        var repoBody = bad ? "var db = new AppDb(); return await db.SaveChangesAsync(ct);" : "await using var db = new AppDb(); return await db.SaveChangesAsync(ct);";
        var create = bad ? "var agent = new Agent(); await agent.RunAsync(text, ct);" : "await Task.Yield();";
        var broadcast = bad ? "await _sockets.BroadcastAsync(text);" : "await _sockets.SendToUserAsync(user, text);";
        return $$"""
            using System;
            using System.Collections.Concurrent;
            using System.Collections.Generic;
            using System.Linq;
            using System.Net.WebSockets;
            using System.Text;
            using System.Threading;
            using System.Threading.Tasks;
            using Isolation;
            using Microsoft.EntityFrameworkCore;
            using Microsoft.Extensions.AI;
            using Microsoft.Extensions.Hosting;

            namespace Gen.Unit{{i}};

            public sealed class AppDb : DbContext { }

            public sealed class Sockets
            {
                private readonly ConcurrentDictionary<string, WebSocket> _all = new();
                private readonly ConcurrentDictionary<string, List<WebSocket>> _byUser = new();

                public async Task BroadcastAsync(string text)
                {
                    var bytes = Encoding.UTF8.GetBytes(text);
                    foreach (var socket in _all.Values) { await socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None); }
                }

                public async Task SendToUserAsync(string user, string text)
                {
                    if (!_byUser.TryGetValue(user, out var sockets)) { return; }
                    var bytes = Encoding.UTF8.GetBytes(text);
                    foreach (var socket in sockets) { await socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None); }
                }
            }

            public sealed class Agent : IAgent
            {
                {{staticState}}
                private readonly List<ChatMessage> _history = new();
                private readonly Sockets _sockets = new();

                public async Task RunAsync(string text, CancellationToken ct)
                {
                    var user = "user" + text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    _history.Add(new ChatMessage());
                    {{count}}
                    {{broadcast}}
                    await Task.Delay(1, ct);
                }
            }

            public sealed class Registry
            {
                {{registryField}}
                {{registryCtor}}
            }

            public sealed class Repository
            {
                public async Task<int> SaveAsync(CancellationToken ct)
                {
                    {{repoBody}}
                }
            }

            public sealed class Handler
            {
                public async Task HandleAsync(string text, CancellationToken ct)
                {
                    {{create}}
                }
            }

            public sealed class Worker : BackgroundService
            {
                {{workerField}}
                {{workerCtor}}
                protected override async Task ExecuteAsync(CancellationToken stoppingToken)
                {
                    {{workerBody}}
                }
            }

            public sealed record Order(int Id, string Customer, decimal Amount, DateTime Placed);

            public static class Reports
            {
                public static IReadOnlyList<string> Summarise(IEnumerable<Order> orders)
                {
                    var lines = new List<string>();
                    foreach (var group in orders.GroupBy(o => o.Customer).OrderBy(g => g.Key, StringComparer.Ordinal))
                    {
                        var total = group.Sum(o => o.Amount);
                        var latest = group.Max(o => o.Placed);
                        lines.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{group.Key}: {group.Count()} orders, {total:0.00}, last {latest:yyyy-MM-dd}"));
                    }

                    return lines;
                }

                public static decimal Percentile(IReadOnlyList<decimal> values, double p)
                {
                    if (values.Count == 0) { return 0; }
                    var sorted = values.OrderBy(v => v).ToArray();
                    var index = (int)Math.Clamp(Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1);
                    return sorted[index];
                }

                public static string Slug(string title)
                {
                    var builder = new StringBuilder(title.Length);
                    foreach (var c in title)
                    {
                        builder.Append(char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
                    }

                    return builder.ToString().Trim('-');
                }
            }
            """;
    }
}
