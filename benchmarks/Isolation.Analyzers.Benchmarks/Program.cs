using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;
using Isolation.Analyzers.Benchmarks;

// 'generate <folder> [units]' writes the large project as a buildable csproj (for the build-time measurement);
// anything else runs the benchmarks.
if (args.Length >= 2 && args[0] == "generate")
{
    var folder = Path.GetFullPath(args[1]);
    var units = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : LargeProject.DefaultUnits;
    Directory.CreateDirectory(folder);
    foreach (var (name, text) in LargeProject.Generate(units))
    {
        File.WriteAllText(Path.Combine(folder, name), text);
    }

    Console.WriteLine($"Wrote {units} units to {folder}");
    return;
}

// 'check [units]' compiles the large project with all analyzers once and prints what they found.
if (args.Length >= 1 && args[0] == "check")
{
    var benchmark = new AnalyzerBenchmark { Analyzer = "All" };
    benchmark.Setup();
    foreach (var line in benchmark.Summary())
    {
        Console.WriteLine(line);
    }

    return;
}

// 'profile [name]' runs every analyzer (or those whose type name contains name), each next to the no-op baseline, with
// execution-time logging, three times.
if (args.Length >= 1 && args[0] == "profile")
{
    foreach (var line in AnalyzerProfile.Run(rounds: 3, only: args.Length > 1 ? args[1] : null))
    {
        Console.WriteLine(line);
    }

    return;
}

// 'cost [name] [rounds]' measures what each analyzer adds to a whole analysis (CPU time and bytes allocated, the
// compiler's driver included), next to the no-op baseline, alternating; 5 rounds unless given.
if (args.Length >= 1 && args[0] == "cost")
{
    var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
    foreach (var line in AnalyzerCost.Run(rounds, only: args.Length > 1 && args[1] != "all" ? args[1] : null))
    {
        Console.WriteLine(line);
    }

    return;
}

BenchmarkSwitcher.FromAssembly(typeof(AnalyzerBenchmark).Assembly)
    .Run(args, DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default));
