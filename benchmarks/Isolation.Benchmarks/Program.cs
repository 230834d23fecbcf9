using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Isolation.Benchmarks;

public static class Program
{
    /// <summary>
    /// Runs the benchmarks chosen on the command line (<c>--filter '*'</c> for all), then checks the goals against what was
    /// measured. Exits with 1 when a benchmark failed to run (so CI catches a broken benchmark); a missed goal is printed, not
    /// an error: timings on a shared machine are evidence to read, not a pass/fail signal.
    /// </summary>
    public static int Main(string[] args)
    {
        var config = DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.DisableLogFile);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config).ToList();

        var failed = 0;
        foreach (var summary in summaries)
        {
            if (summary.HasCriticalValidationErrors)
            {
                Console.Error.WriteLine($"Benchmark validation failed in '{summary.Title}': {string.Join("; ", summary.ValidationErrors.Select(e => e.Message))}");
                failed++;
            }

            foreach (var report in summary.Reports.Where(r => !r.Success))
            {
                Console.Error.WriteLine($"Benchmark failed: {report.BenchmarkCase.DisplayInfo}");
                failed++;
            }
        }

        var reports = summaries.SelectMany(s => s.Reports).Where(r => r.Success).ToList();
        if (reports.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("// * Goals *");
            foreach (var line in Goals.Evaluate(reports).Concat(AgentFrameworkGoals.Evaluate(reports)).Concat(AspNetCoreGoals.Evaluate(reports)).Concat(LeakSamplingGoals.Evaluate(reports)))
            {
                Console.WriteLine(line);
            }
        }

        if (failed > 0)
        {
            Console.Error.WriteLine($"{failed} benchmark(s) failed to run.");
            return 1;
        }

        return 0;
    }
}
