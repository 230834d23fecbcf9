using System.Collections.Concurrent;
using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using Isolation.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Isolation.Analyzers.Tests;

/// <summary>
/// In a user's build an analyzer exception is only warning AD0001 and the rule silently stops, so crash-freedom is
/// tested like correctness: every analyzer runs over every .cs file in the repository, over damaged copies of them
/// (truncated, tokens removed) and over odd syntax, and no analyzer may throw.
/// </summary>
public sealed class RobustnessTests
{
    private const string OddSyntax = """
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Isolation;
        using Microsoft.Extensions.DependencyInjection;

        var services = default(IServiceCollection)!;
        services.AddSingleton<Odd.RecordAgent>();
        services.AddSingleton(typeof(List<>));
        services.AddSingleton<Odd.IOpen<int>>(sp => null!);
        services.AddSingleton<dynamic>(sp => null!);
        services.AddSingleton<Odd.RecordAgent>(sp => { if (sp is null) { return new Odd.RecordAgent(1); } throw new Exception(); });
        _ = Task.Run(() => 1);
        _ = Task.Run(Odd.Local.Work);
        System.Threading.ThreadPool.QueueUserWorkItem(static _ => { });

        namespace Odd
        {
            public sealed record RecordAgent(int Id) : IAgent { public static RecordAgent? Last { get; set; } }
            public record struct ValueAgent(int Id) : IAgent;
            public interface IOpen<T> : IAgent { static abstract T Make(); }
            public sealed class Generic<T> where T : IAgent, new() { private static T? _held; public T Make() => new T(); private static readonly List<T> All = []; }
            public sealed class Primary(IAgent agent, System.Data.Common.DbConnection connection) { public IAgent Agent => agent; }
            file sealed class FileLocal : IAgent { private static int _count; }
            public static class Local
            {
                public static Task Work() => Task.CompletedTask;
                public static unsafe void Pointers(int* p) { var x = *p; }
                public static void Loops(Dictionary<string, System.Net.WebSockets.WebSocket> map, dynamic d)
                {
                    foreach (var (key, socket) in map) { _ = socket.SendAsync(default, System.Net.WebSockets.WebSocketMessageType.Text, true, default); }
                    foreach (var item in d) { }
                    foreach (var x in Missing.Sockets) { x.SendAsync(); }
                    var c = new System.Data.Common.DbConnection();
                    var e = new Undefined();
                    Func<IAgent> f = () => new RecordAgent(2);
                    IAgent a = new(3);
                    using var bad = new RecordAgent(4);
                }
            }
            public sealed class Cyclic : Cyclic { }
            public sealed class Self<T> : IAgent where T : Self<T> { private static Self<Self<Self<T>>>? _deep; }
            public sealed class Nested { public sealed class Inner : IAgent { public static Inner? Current; } }
            partial class Partial : IAgent { private static int _a; }
            partial class Partial { private static int _b; }
            public sealed class Indexed : IAgent { public static IAgent this[int i] { get => null!; set { } } }
        }
        """;

    public static TheoryData<string> Damages => new() { "original", "truncated-25", "truncated-50", "truncated-75", "tokens-every-5", "tokens-every-11" };

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task AllAnalyzers_RepositorySourcesAndDamagedCopies_NeverThrow(string damage)
    {
        var sources = RepositorySources();
        Assert.True(sources.Length > 50, $"Expected the repository's .cs files, found {sources.Length}.");

        var trees = new List<SyntaxTree>(sources.Length + 2);
        foreach (var (path, text) in sources)
        {
            trees.Add(CSharpSyntaxTree.ParseText(Damage(text, damage), ParseOptions, path, cancellationToken: TestContext.Current.CancellationToken));
        }

        trees.Add(CSharpSyntaxTree.ParseText(Damage(OddSyntax, damage), ParseOptions, "OddSyntax.cs", cancellationToken: TestContext.Current.CancellationToken));
        await AssertNoAnalyzerExceptionAsync(trees);
    }

    [Fact]
    public async Task AllAnalyzers_OddSyntaxWithStubs_NeverThrow()
    {
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText(Stubs.Source, ParseOptions, Stubs.FileName, cancellationToken: TestContext.Current.CancellationToken),
            CSharpSyntaxTree.ParseText(OddSyntax, ParseOptions, "OddSyntax.cs", cancellationToken: TestContext.Current.CancellationToken),
        };
        var diagnostics = await AssertNoAnalyzerExceptionAsync(trees);

        // The odd code really was analysed: the analyzers found its singleton and static agents.
        Assert.Contains(diagnostics, d => d.Id == "ISO001");
        Assert.Contains(diagnostics, d => d.Id == "ISO002");
    }

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Preview);

    internal static async Task<ImmutableArray<Diagnostic>> AssertNoAnalyzerExceptionAsync(IEnumerable<SyntaxTree> trees)
    {
        var compilation = CSharpCompilation.Create(
            "Robustness",
            trees,
            Net80.References.All,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        var exceptions = new ConcurrentBag<string>();
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            onAnalyzerException: (exception, analyzer, diagnostic) => exceptions.Add($"{analyzer.GetType().Name}: {exception}"),
            concurrentAnalysis: true,
            logAnalyzerExecutionTime: false);
        var withAnalyzers = compilation.WithAnalyzers(Repository.AllAnalyzers, options);
        var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync(TestContext.Current.CancellationToken);

        Assert.Empty(exceptions);
        Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
        return diagnostics;
    }

    private static ImmutableArray<(string Path, string Text)> RepositorySources()
    {
        var root = Repository.Root;
        return Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(path =>
            {
                var relative = Path.GetRelativePath(root, path).Replace('\\', '/');
                return !relative.Contains("/bin/", StringComparison.Ordinal) && !relative.Contains("/obj/", StringComparison.Ordinal)
                    && !relative.StartsWith('.') && !relative.StartsWith("BenchmarkDotNet.Artifacts", StringComparison.Ordinal);
            })
            .Order(StringComparer.Ordinal)
            .Select(path => (Path.GetRelativePath(root, path), File.ReadAllText(path)))
            .ToImmutableArray();
    }

    private static string Damage(string text, string damage)
    {
        switch (damage)
        {
            case "original":
                return text;
            case "truncated-25":
                return text[..(text.Length / 4)];
            case "truncated-50":
                return text[..(text.Length / 2)];
            case "truncated-75":
                return text[..(text.Length * 3 / 4)];
            case "tokens-every-5":
            case "tokens-every-11":
                var every = damage.EndsWith('5') ? 5 : 11;
                var builder = new System.Text.StringBuilder(text.Length);
                var index = 0;
                foreach (var token in CSharpSyntaxTree.ParseText(text).GetRoot().DescendantTokens(descendIntoTrivia: false))
                {
                    if (++index % every != 0)
                    {
                        builder.Append(token.ToFullString());
                    }
                }

                return builder.ToString();
            default:
                throw new ArgumentOutOfRangeException(nameof(damage), damage, "Unknown damage kind.");
        }
    }
}
