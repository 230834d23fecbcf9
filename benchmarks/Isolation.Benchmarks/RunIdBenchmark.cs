using BenchmarkDotNet.Attributes;

namespace Isolation.Benchmarks;

/// <summary>
/// A new <see cref="UserExecutionContext"/> without a run id generates one: against <c>Guid.NewGuid().ToString("N")</c>,
/// which is what it used to do (a system call per id on Linux).
/// </summary>
public class RunIdBenchmark
{
    [Benchmark(Baseline = true)]
    public string GuidRunId() => Guid.NewGuid().ToString("N");

    [Benchmark]
    public UserExecutionContext ContextWithGeneratedRunId() => new("alice");

    [Benchmark]
    public UserExecutionContext ContextWithGivenRunId() => new("alice", runId: "run-1");
}
