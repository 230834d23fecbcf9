using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Execution;

/// <summary>The runner keeps each run's deadline on a timer it reuses: every run's deadline counts from its own start.</summary>
public sealed class RunnerDeadlineTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RunAsync_AfterEarlierRuns_NextRunsDeadlineCountsFromItsOwnStart()
    {
        await using var host = TestHost.Create();
        var runner = host.Provider.GetRequiredService<IIsolatedRunner>();
        var deadline = new RunOptions { Deadline = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < 3; i++)
        {
            var done = await runner.RunAsync(new UserExecutionContext("alice"), (_, _) => Task.CompletedTask, deadline);
            Assert.Equal(RunStatus.Completed, done.Status);
        }

        host.Time.Advance(TimeSpan.FromSeconds(5));
        IsolationScope? scope = null;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = runner.RunAsync(new UserExecutionContext("alice"), (s, _) =>
        {
            scope = s;
            return release.Task;
        }, deadline);

        // Past the deadlines of the earlier runs, not of this one.
        host.Time.Advance(TimeSpan.FromSeconds(6));
        Assert.False(run.IsCompleted);
        Assert.False(scope!.Aborted.IsCancellationRequested);

        host.Time.Advance(TimeSpan.FromSeconds(4));
        var result = await run.WaitAsync(Bound);
        Assert.Equal(RunStatus.TimedOut, result.Status);
        Assert.True(scope.DeadlineExceeded);
        release.SetResult();
    }

    [Fact]
    public async Task RunAsync_CompletedBeforeItsDeadline_ScopeNeverSeesTheDeadline()
    {
        await using var host = TestHost.Create();
        var runner = host.Provider.GetRequiredService<IIsolatedRunner>();
        IsolationScope? scope = null;

        var result = await runner.RunAsync(new UserExecutionContext("alice"), async (s, ct) =>
        {
            scope = s;
            await Task.Yield();
        }, new RunOptions { Deadline = TimeSpan.FromSeconds(1) });
        host.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.False(scope!.DeadlineExceeded);
    }
}
