using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.Tests.Execution;

/// <summary>Where the runner starts the work: on the caller's thread by default, on the thread pool when asked.</summary>
public sealed class RunnerStartTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static TestHost CreateHost(Action<IsolatedRunnerOptions>? runner = null) =>
        TestHost.Create(s =>
        {
            s.AddScoped<ScopedDependency>().AddIsolatedAgent<NotesAgent>();
            if (runner is not null)
            {
                s.Configure(runner);
            }
        });

    private static IIsolatedRunner Runner(TestHost host) => host.Provider.GetRequiredService<IIsolatedRunner>();

    [Fact]
    public async Task RunAsync_Default_WorkStartsOnCallerThreadWithItsScopeCurrent()
    {
        await using var host = CreateHost();
        var caller = Environment.CurrentManagedThreadId;
        var started = -1;
        IsolationScope? current = null;
        IsolationScope? given = null;

        var result = await Runner(host).RunAsync(new UserExecutionContext("alice"), (scope, _) =>
        {
            started = Environment.CurrentManagedThreadId;
            current = IsolationScope.Current;
            given = scope;
            return Task.CompletedTask;
        });

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(caller, started);
        Assert.NotNull(given);
        Assert.Same(given, current);
        Assert.Null(IsolationScope.Current);
    }

    [Fact]
    public async Task RunAsync_StartOnThreadPoolOption_RunAsyncReturnsBeforeTheWorkStarts()
    {
        await using var host = CreateHost(o => o.StartOnThreadPool = true);
        using var gate = new ManualResetEventSlim();
        var released = false;

        // Started inline, the work would block RunAsync itself, and the gate set after it returns would never open in time.
        var run = Runner(host).RunAsync(new UserExecutionContext("alice"), (_, _) =>
        {
            released = gate.Wait(Bound, CancellationToken.None);
            return Task.CompletedTask;
        });
        gate.Set();
        var result = await run.WaitAsync(Bound);

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.True(released);
    }

    [Fact]
    public async Task RunAsync_RunOptionsStartOnThreadPoolFalse_OverridesOptionAndStartsInline()
    {
        await using var host = CreateHost(o => o.StartOnThreadPool = true);
        var caller = Environment.CurrentManagedThreadId;
        var started = -1;

        var result = await Runner(host).RunAsync(
            new UserExecutionContext("alice"),
            (_, _) =>
            {
                started = Environment.CurrentManagedThreadId;
                return Task.CompletedTask;
            },
            new RunOptions { StartOnThreadPool = false });

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(caller, started);
    }

    [Fact]
    public async Task RunAsync_StartOnThreadPool_WorkBlockingSynchronouslyTimesOutWithoutHoldingTheCaller()
    {
        await using var host = CreateHost();
        using var release = new ManualResetEventSlim();
        var returned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = Runner(host).RunAsync(
            new UserExecutionContext("alice"),
            (_, _) =>
            {
                // Blocks its thread and ignores the token: only a thread-pool start lets the runner stop waiting.
                release.Wait(Bound, CancellationToken.None);
                returned.TrySetResult();
                return Task.CompletedTask;
            },
            new RunOptions { Deadline = TimeSpan.FromSeconds(1), StartOnThreadPool = true });
        host.Time.Advance(TimeSpan.FromSeconds(2));
        var result = await run.WaitAsync(Bound);

        Assert.Equal(RunStatus.TimedOut, result.Status);
        Assert.False(returned.Task.IsCompleted);
        release.Set();
        await returned.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task RunAsync_InlineWorkBlockingPastItsDeadline_TimedOutWhenItReturns()
    {
        await using var host = CreateHost();
        var blocking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Task.Run(async () =>
        {
            await blocking.Task.WaitAsync(Bound);
            host.Time.Advance(TimeSpan.FromSeconds(2));
        });

        var result = await Runner(host).RunAsync(
            new UserExecutionContext("alice"),
            (_, ct) =>
            {
                // Blocks the caller's thread until the deadline cancels the token, then returns as if it had finished.
                blocking.TrySetResult();
                Assert.True(ct.WaitHandle.WaitOne(Bound));
                return Task.CompletedTask;
            },
            new RunOptions { Deadline = TimeSpan.FromSeconds(1) });
        await clock;

        Assert.Equal(RunStatus.TimedOut, result.Status);
        Assert.IsType<OperationCanceledException>(result.Exception);
        Assert.Equal(1, host.Monitor.FinishedScopes);
    }

    [Fact]
    public async Task RunAsync_InlineWorkThrowingBeforeReturningATask_Failed()
    {
        await using var host = CreateHost();

        var result = await Runner(host).RunAsync(
            new UserExecutionContext("alice"),
            (_, _) => throw new InvalidOperationException("boom before any await"));

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal("boom before any await", Assert.IsType<InvalidOperationException>(result.Exception).Message);
    }

    [Fact]
    public async Task RunAsync_InlineWorkAwaitingPastItsDeadline_RunnerStopsWaitingAtTheDeadline()
    {
        await using var host = CreateHost();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = Runner(host).RunAsync(
            new UserExecutionContext("alice"),
            (_, _) => release.Task, // never completes on its own and ignores the token
            new RunOptions { Deadline = TimeSpan.FromSeconds(1) });
        Assert.False(run.IsCompleted);
        host.Time.Advance(TimeSpan.FromSeconds(2));
        var result = await run.WaitAsync(Bound);

        Assert.Equal(RunStatus.TimedOut, result.Status);
        release.SetResult();
    }
}
