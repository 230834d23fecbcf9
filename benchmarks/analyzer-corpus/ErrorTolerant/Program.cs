// Runs analyzers over a compilation that has errors, as the compiler would have compiled it.
//
// The compiler stops after declaration errors (a missing package's namespace or base type) and reports no analyzer
// diagnostic at all. This tool takes the compiler's own command line (the csc arguments MSBuild produced for the
// project), builds the same compilation with CSharpCommandLineParser, runs the project's source generators, and then
// runs the given analyzers through CompilationWithAnalyzers, which reports their diagnostics whatever the errors.
//
// Usage: ErrorTolerant RSP_FILE BASE_DIR ANALYZER_DLL...
//   RSP_FILE: the csc arguments, one per line (MSBuild's CscCommandLineArgs with ProvideCommandLineArgs=true).
// Output, one line per diagnostic, in the compiler's format:
//   PATH(LINE,COL): error CSxxxx: message      every compiler error (so a caller knows which files have errors)
//   PATH(LINE,COL): warning ID: message        every analyzer diagnostic (of the given analyzer assemblies only)
// and a last line "analyzers ran: N".
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: ErrorTolerant RSP_FILE BASE_DIR ANALYZER_DLL...");
    return 2;
}

var lines = File.ReadAllLines(args[0]).Where(l => l.Length > 0).ToArray();
var baseDirectory = args[1];
var parsed = CSharpCommandLineParser.Default.Parse(lines, baseDirectory, sdkDirectory: null);
foreach (var error in parsed.Errors.Where(e => e.Severity == DiagnosticSeverity.Error))
{
    Console.Error.WriteLine("command line: " + error);
}

var encoding = parsed.Encoding ?? System.Text.Encoding.UTF8;
var trees = parsed.SourceFiles
    .Select(f =>
    {
        using var stream = File.OpenRead(f.Path);
        return CSharpSyntaxTree.ParseText(SourceText.From(stream, encoding, parsed.ChecksumAlgorithm), (CSharpParseOptions)parsed.ParseOptions, f.Path);
    })
    .ToList();
var references = parsed.MetadataReferences
    .Select(r => r.Reference)
    .Where(File.Exists)
    .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
    .ToList();

var configs = parsed.AnalyzerConfigPaths.Select(p => AnalyzerConfig.Parse(SourceText.From(File.ReadAllText(p)), p)).ToList();
var configSet = AnalyzerConfigSet.Create(configs);
var additionalTexts = parsed.AdditionalFiles.Select(f => (AdditionalText)new FileText(f.Path)).ToImmutableArray();
var optionsProvider = new ConfigOptionsProvider(configSet, parsed.AdditionalFiles.ToDictionary(f => f.Path, f => f.Path));

var compilation = CSharpCompilation.Create(
    parsed.CompilationName ?? "Corpus",
    trees,
    references,
    parsed.CompilationOptions.WithSyntaxTreeOptionsProvider(null));

// The project's own generators (Razor, logging, regex ...): the .cs files use what they generate.
var loader = new Loader();
var generators = new List<ISourceGenerator>();
foreach (var analyzer in parsed.AnalyzerReferences)
{
    try
    {
        var reference = new AnalyzerFileReference(Path.GetFullPath(analyzer.FilePath, baseDirectory), loader);
        generators.AddRange(reference.GetGenerators(LanguageNames.CSharp));
    }
    catch (Exception exception)
    {
        Console.Error.WriteLine($"generator load failed: {analyzer.FilePath}: {exception.Message}");
    }
}

if (generators.Count > 0)
{
    var driver = CSharpGeneratorDriver.Create(generators, additionalTexts, (CSharpParseOptions)parsed.ParseOptions, optionsProvider);
    driver.RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
    compilation = (CSharpCompilation)generated;
}

foreach (var diagnostic in compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error))
{
    Console.WriteLine(Format(diagnostic, "error"));
}

var analyzers = args.Skip(2)
    .SelectMany(path => new AnalyzerFileReference(Path.GetFullPath(path), loader).GetAnalyzers(LanguageNames.CSharp))
    .ToImmutableArray();
var options = new AnalyzerOptions(additionalTexts, optionsProvider);
var withAnalyzers = compilation.WithAnalyzers(analyzers, new CompilationWithAnalyzersOptions(options, onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: false, reportSuppressedDiagnostics: false));
var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync(CancellationToken.None);
foreach (var diagnostic in diagnostics.Where(d => !d.IsSuppressed && d.Severity != DiagnosticSeverity.Hidden))
{
    Console.WriteLine(Format(diagnostic, diagnostic.Severity == DiagnosticSeverity.Error ? "error" : "warning"));
}

Console.WriteLine($"analyzers ran: {analyzers.Length}");
return 0;

static string Format(Diagnostic diagnostic, string severity)
{
    var span = diagnostic.Location.GetLineSpan();
    var path = span.Path is { Length: > 0 } ? span.Path : "(no file)";
    return $"{path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): {severity} {diagnostic.Id}: {diagnostic.GetMessage()}";
}

/// <summary>An additional file (a .razor component, for the Razor generator) read from disk.</summary>
internal sealed class FileText(string path) : AdditionalText
{
    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(File.ReadAllText(Path));
}

/// <summary>Options of the .editorconfig and global config files of the command line, per tree and per additional file.</summary>
internal sealed class ConfigOptionsProvider(AnalyzerConfigSet set, Dictionary<string, string> additionalFiles) : AnalyzerConfigOptionsProvider
{
    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(set.GlobalConfigOptions.AnalyzerOptions);

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options(set.GetOptionsForSourcePath(tree.FilePath).AnalyzerOptions);

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile)
        => new Options(set.GetOptionsForSourcePath(additionalFiles.GetValueOrDefault(textFile.Path, textFile.Path)).AnalyzerOptions);

    private sealed class Options(ImmutableDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}

/// <summary>Loads each analyzer assembly in a context of its folder, sharing Roslyn and the framework with this process.</summary>
internal sealed class Loader : IAnalyzerAssemblyLoader
{
    private readonly Dictionary<string, Context> _contexts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Assembly> _loaded = new(StringComparer.Ordinal);

    public void AddDependencyLocation(string fullPath)
    {
    }

    public Assembly LoadFromPath(string fullPath)
    {
        if (_loaded.TryGetValue(fullPath, out var assembly))
        {
            return assembly;
        }

        var directory = Path.GetDirectoryName(fullPath)!;
        if (!_contexts.TryGetValue(directory, out var context))
        {
            context = new Context(directory);
            _contexts[directory] = context;
        }

        assembly = context.LoadFromAssemblyPath(fullPath);
        _loaded[fullPath] = assembly;
        return assembly;
    }

    private sealed class Context(string directory) : AssemblyLoadContext(isCollectible: false)
    {
        private static readonly HashSet<string> Platform = new(
            ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty)
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(Path.GetFileNameWithoutExtension)!,
            StringComparer.OrdinalIgnoreCase);

        protected override Assembly? Load(AssemblyName name)
        {
            // Roslyn, the framework and what this process has come from the default context, so the types are the same;
            // anything else from the analyzer's own folder.
            if (name.Name is not { } simple || Platform.Contains(simple))
            {
                return null;
            }

            var candidate = Path.Combine(directory, simple + ".dll");
            return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
        }
    }
}
