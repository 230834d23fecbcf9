using System.Runtime.CompilerServices;
using Isolation.Tests.Events;
using Isolation.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.ObjectPool;

namespace Isolation.Tests.Issues;

/// <summary>
/// Regression tests for "Isolation holds at the edges": abandoned work, pooled agents, custom factories and stale
/// references. Each test is named after the promise it proves; each failed on the code before the fix.
/// </summary>
public sealed class EdgeIsolationTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static IIsolatedRunner Runner(TestHost host) => host.Provider.GetRequiredService<IIsolatedRunner>();

    /// <summary>Waits until the runner no longer counts abandoned work: the scope is disposed and the user's slot released.</summary>
    private static async Task NoAbandonedRunsAsync(TestHost host)
    {
        var runner = (Isolation.Execution.IsolatedRunner)Runner(host);
        var deadline = DateTime.UtcNow + Bound;
        while (runner.AbandonedRuns != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "abandoned work was never released");
            await Task.Delay(5);
        }
    }

    private static (RecordingSink Sink, IDisposable Registration) Connect(TestHost host, string userId)
    {
        var sink = new RecordingSink(userId, "c-1");
        return (sink, host.Provider.GetRequiredService<IConnectionRegistry>().Register(sink));
    }

    // 1. A pooled agent crosses users after abandoned work.
    [Fact]
    public async Task PooledAgent_AbandonedWorkGivenUp_NeverHandedToAnotherUserAndLateWriteReported()
    {
        await using var host = TestHost.Create(
            s =>
            {
                s.AddIsolatedAgent<PooledNotesAgent>(o =>
                {
                    o.UsePool = true;
                    o.MaximumRetained = 1;
                });
                s.Configure<IsolatedRunnerOptions>(o =>
                {
                    o.DefaultDeadline = TimeSpan.FromSeconds(5);
                    o.AbandonedWorkTimeout = TimeSpan.FromSeconds(10);
                });
            },
            o => o.Mode = IsolationMode.Observe);
        var violations = host.CaptureViolations();
        using var ended = new MetricCollector<double>(host.Metrics.Meter, IsolationTelemetry.ScopeDuration);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lateWrite = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        PooledNotesAgent? alicesAgent = null;

        var alice = Runner(host).RunAsync(new UserExecutionContext("alice"), async (scope, _) =>
        {
            alicesAgent = scope.GetAgent<PooledNotesAgent>();
            alicesAgent.Add("alice's secret");
            started.SetResult();
            await release.Task; // a model call that ignores its cancellation token
            alicesAgent.Add("alice's late secret");
            lateWrite.SetResult();
        });
        await started.Task.WaitAsync(Bound);
        host.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(RunStatus.TimedOut, (await alice.WaitAsync(Bound)).Status);
        host.Time.Advance(TimeSpan.FromSeconds(10));
        await ended.WaitForMeasurementsAsync(1, Bound);

        PooledNotesAgent? bobsAgent = null;
        var bobSawAtRent = -1;
        var bob = await Runner(host).RunAsync(new UserExecutionContext("bob"), (scope, _) =>
        {
            bobsAgent = scope.GetAgent<PooledNotesAgent>();
            bobSawAtRent = bobsAgent.Notes.Count;
            bobsAgent.Add("bob's note");
            return Task.CompletedTask;
        });
        release.SetResult();
        await lateWrite.Task.WaitAsync(Bound);

        Assert.Equal(RunStatus.Completed, bob.Status);
        Assert.NotSame(alicesAgent, bobsAgent);
        Assert.Equal(0, bobSawAtRent);
        var late = Assert.Single(violations);
        Assert.Equal(ViolationKind.UseAfterReturn, late.Kind);
        Assert.Equal("alice", late.Context!.UserId);
    }

    // 2. The per-user limit is released while abandoned work keeps running.
    [Fact]
    public async Task PerUserLimit_AbandonedWorkStillRunning_KeepsTheUsersSlotUntilItReturns()
    {
        await using var host = TestHost.Create(s => s.Configure<IsolatedRunnerOptions>(o =>
        {
            o.MaxConcurrentRunsPerUser = 1;
            o.DefaultDeadline = TimeSpan.FromSeconds(1);
        }));
        var (sink, registration) = Connect(host, "alice");
        using var _ = registration;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var hung = Runner(host).RunAsync(new UserExecutionContext("alice"), async (_, _) =>
        {
            started.SetResult();
            await release.Task;
        });
        await started.Task.WaitAsync(Bound);
        host.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(RunStatus.TimedOut, (await hung.WaitAsync(Bound)).Status);

        var whileHung = new UserExecutionContext("alice");
        var rejected = await Runner(host).RunAsync(whileHung, (_, _) => throw new InvalidOperationException("must not run"));
        var bob = await Runner(host).RunAsync(new UserExecutionContext("bob"), (_, _) => Task.CompletedTask);
        release.SetResult();
        await NoAbandonedRunsAsync(host);
        var after = await Runner(host).RunAsync(new UserExecutionContext("alice"), (_, _) => Task.CompletedTask);

        Assert.Equal(RunStatus.Rejected, rejected.Status);
        Assert.Contains("1 requests in progress", Assert.IsType<RunEndedEvent>(sink.Received.Single(e => e.RunId == whileHung.RunId).Payload).Message, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Completed, bob.Status);
        Assert.Equal(RunStatus.Completed, after.Status);
    }

    [Fact]
    public async Task PerUserLimit_AbandonedWorkGivenUpAfterTimeout_FreesTheSlot()
    {
        await using var host = TestHost.Create(s => s.Configure<IsolatedRunnerOptions>(o =>
        {
            o.MaxConcurrentRunsPerUser = 1;
            o.DefaultDeadline = TimeSpan.FromSeconds(1);
            o.AbandonedWorkTimeout = TimeSpan.FromSeconds(5);
        }));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();

        var hung = Runner(host).RunAsync(new UserExecutionContext("alice"), async (_, _) =>
        {
            started.SetResult();
            await never.Task;
        });
        await started.Task.WaitAsync(Bound);
        host.Time.Advance(TimeSpan.FromSeconds(1));
        await hung.WaitAsync(Bound);
        Assert.Equal(RunStatus.Rejected, (await Runner(host).RunAsync(new UserExecutionContext("alice"), (_, _) => Task.CompletedTask)).Status);

        host.Time.Advance(TimeSpan.FromSeconds(5));
        await NoAbandonedRunsAsync(host);

        Assert.Equal(1, host.Monitor.FinishedScopes);
        Assert.Equal(RunStatus.Completed, (await Runner(host).RunAsync(new UserExecutionContext("alice"), (_, _) => Task.CompletedTask)).Status);
        never.SetResult();
    }

    [Fact]
    public async Task MaxAbandonedRuns_Reached_NewRunsRejectedWithTheReasonAndGaugeCountsThem()
    {
        await using var host = TestHost.Create(s => s.Configure<IsolatedRunnerOptions>(o =>
        {
            o.MaxAbandonedRuns = 1;
            o.DefaultDeadline = TimeSpan.FromSeconds(1);
        }));
        using var abandoned = new MetricCollector<int>(host.Metrics.Meter, IsolationTelemetry.RunsAbandoned);
        var (sink, registration) = Connect(host, "bob");
        using var _ = registration;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var hung = Runner(host).RunAsync(new UserExecutionContext("alice"), async (_, _) =>
        {
            started.SetResult();
            await release.Task;
        });
        await started.Task.WaitAsync(Bound);
        host.Time.Advance(TimeSpan.FromSeconds(1));
        await hung.WaitAsync(Bound);
        abandoned.RecordObservableInstruments();
        var bobContext = new UserExecutionContext("bob");
        var rejected = await Runner(host).RunAsync(bobContext, (_, _) => Task.CompletedTask);
        release.SetResult();
        await NoAbandonedRunsAsync(host);
        abandoned.RecordObservableInstruments();

        Assert.Equal(RunStatus.Rejected, rejected.Status);
        var message = Assert.IsType<RunEndedEvent>(sink.Received.Single(e => e.RunId == bobContext.RunId).Payload).Message;
        Assert.Contains("did not stop in time", message, StringComparison.Ordinal);
        Assert.Equal(new[] { 1, 0 }, abandoned.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(RunStatus.Completed, (await Runner(host).RunAsync(new UserExecutionContext("bob"), (_, _) => Task.CompletedTask)).Status);
    }

    // 3. RunAsync throws where the docs say it only throws for its arguments.
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task RunAsync_DeadlineNotPositive_ThrowsArgumentOutOfRangeAtEntry(int seconds)
    {
        await using var host = TestHost.Create();
        var ran = false;

        var exception = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Runner(host).RunAsync(
            new UserExecutionContext("alice"),
            (_, _) =>
            {
                ran = true;
                return Task.CompletedTask;
            },
            new RunOptions { Deadline = TimeSpan.FromSeconds(seconds) }));

        Assert.False(ran);
        Assert.Contains("RunOptions.Deadline", exception.Message, StringComparison.Ordinal);
        Assert.Equal(0, host.Monitor.FinishedScopes);
    }

    [Fact]
    public async Task RunAsync_ModeProviderThrows_FailedWithOneTerminalEvent()
    {
        await using var host = TestHost.Create(s => s.AddSingleton<IIsolationModeProvider>(new ThrowingModeProvider()));
        var (sink, registration) = Connect(host, "alice");
        using var _ = registration;
        var context = new UserExecutionContext("alice");

        var result = await Runner(host).RunAsync(context, (_, _) => Task.CompletedTask);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.IsType<InvalidOperationException>(result.Exception);
        var terminal = Assert.Single(sink.Received, e => e.RunId == context.RunId);
        Assert.Equal(AgentEventTypes.AgentFailed, terminal.Type);
        Assert.Equal(new IsolatedRunnerOptions().FailureMessage, Assert.IsType<RunEndedEvent>(terminal.Payload).Message);
    }

    [Fact]
    public async Task RunAsync_CancelledWhileQueued_CancelledNotRejected()
    {
        await using var host = TestHost.Create(s => s.Configure<IsolatedRunnerOptions>(o =>
        {
            o.MaxConcurrentRunsPerUser = 1;
            o.QueuedRunsPerUser = 1;
        }));
        var (sink, registration) = Connect(host, "alice");
        using var _ = registration;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Runner(host).RunAsync(new UserExecutionContext("alice"), async (_, _) =>
        {
            started.SetResult();
            await gate.Task;
        });
        await started.Task.WaitAsync(Bound);
        using var caller = new CancellationTokenSource();
        var queuedContext = new UserExecutionContext("alice");

        var queued = Runner(host).RunAsync(queuedContext, (_, _) => throw new InvalidOperationException("must not run"), cancellationToken: caller.Token);
        await caller.CancelAsync();
        var result = await queued.WaitAsync(Bound);
        gate.SetResult();
        await first.WaitAsync(Bound);

        Assert.Equal(RunStatus.Cancelled, result.Status);
        var terminal = Assert.Single(sink.Received, e => e.RunId == queuedContext.RunId);
        Assert.Equal("cancelled", Assert.IsType<RunEndedEvent>(terminal.Payload).Status);
        Assert.DoesNotContain("in progress", Assert.IsType<RunEndedEvent>(terminal.Payload).Message, StringComparison.Ordinal);
    }

    // 4. The ambient scope retains what it should not.
    [Fact]
    public async Task Current_ExecutionContextCapturedWhileCurrent_DoesNotKeepTheDisposedScopesServicesAlive()
    {
        await using var host = TestHost.Create(s => s.AddScoped<ScopedDependency>());

        var (captured, service) = CaptureWhileCurrent(host);
        ForceFullCollection();

        Assert.False(service.TryGetTarget(out _), "a scoped service of a disposed scope was kept alive by a captured execution context");
        GC.KeepAlive(captured);
    }

    [Fact]
    public async Task Current_UndisposedTrackedScopeCapturedByExecutionContext_StillReportsScopeLeak()
    {
        await using var host = TestHost.Create(options: o => o.LeakDetection = LeakDetectionLevel.Full);
        var leaks = new List<IsolationViolation>();
        host.Monitor.LeakDetected += (_, e) =>
        {
            lock (leaks)
            {
                leaks.Add(e.Violation);
            }
        };

        var captured = CaptureUndisposed(host);
        ForceFullCollection();

        lock (leaks)
        {
            Assert.Contains(leaks, v => v.Kind == ViolationKind.ScopeLeak && v.Context!.UserId == "forgotten");
        }

        GC.KeepAlive(captured);
    }

    // 5. Synchronous Dispose with an async-only scoped service disposes nothing.
    [Fact]
    public async Task Dispose_SyncWithAsyncOnlyScopedService_DisposesEveryService()
    {
        await using var host = TestHost.Create(s => s.AddScoped<AsyncOnlyService>().AddScoped<SyncService>());
        var scope = host.CreateScope();
        var sync = scope.Services.GetRequiredService<SyncService>();
        var asyncOnly = scope.Services.GetRequiredService<AsyncOnlyService>();

        scope.Dispose();

        Assert.True(sync.Disposed);
        Assert.True(asyncOnly.Disposed);
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Id.Name == "ResourceReleaseFailed");
    }

    [Fact]
    public async Task Dispose_ScopedServiceThrows_FailureLoggedAndScopeEnds()
    {
        await using var host = TestHost.Create(s => s.AddScoped<ThrowingService>());
        var scope = host.CreateScope();
        scope.Services.GetRequiredService<ThrowingService>();

        scope.Dispose();

        var log = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Name == "ResourceReleaseFailed");
        Assert.Equal("dispose failed", log.Exception!.Message);
        Assert.Equal(1, host.Monitor.FinishedScopes);
        Assert.Throws<ObjectDisposedException>(() => scope.Services);
    }

    // 6. Observe and Off change the application's behaviour.
    [Theory]
    [InlineData(IsolationMode.Observe)]
    [InlineData(IsolationMode.Off)]
    public async Task CustomFactory_SharedInstanceInObserveOrOff_NeverDisposedByAScope(IsolationMode mode)
    {
        var shared = new DisposableAgent();
        await using var host = TestHost.Create(s => s.AddIsolatedAgent(_ => shared), o => o.Mode = mode);
        var violations = host.CaptureViolations();

        await using (var first = host.CreateScope("alice"))
        {
            Assert.Same(shared, first.GetAgent<DisposableAgent>());
        }

        await using (var second = host.CreateScope("bob"))
        {
            Assert.Same(shared, second.GetAgent<DisposableAgent>());
        }

        Assert.False(shared.Disposed);
        if (mode == IsolationMode.Observe)
        {
            Assert.Equal(ViolationKind.SingletonReuse, Assert.Single(violations).Kind);
        }
        else
        {
            Assert.Empty(violations);
        }
    }

    [Fact]
    public async Task CustomFactory_FreshInstanceInEnforce_DisposedWithItsScope()
    {
        await using var host = TestHost.Create(s => s.AddIsolatedAgent(_ => new DisposableAgent()), o => o.Mode = IsolationMode.Enforce);
        DisposableAgent agent;

        await using (var scope = host.CreateScope())
        {
            agent = scope.GetAgent<DisposableAgent>();
        }

        Assert.True(agent.Disposed);
    }

    // 7. Reuse that goes unreported.
    [Fact]
    public async Task PooledCustomFactory_OneInstanceToTwoLiveScopes_ReportsSingletonReuse()
    {
        var shared = new PooledNotesAgent();
        await using var host = TestHost.Create(s => s.AddIsolatedAgent(_ => shared, o => o.UsePool = true), o => o.Mode = IsolationMode.Observe);
        var violations = host.CaptureViolations();

        await using var alice = host.CreateScope("alice");
        alice.GetAgent<PooledNotesAgent>();
        await using var bob = host.CreateScope("bob");
        bob.GetAgent<PooledNotesAgent>();

        var reuse = Assert.Single(violations);
        Assert.Equal(ViolationKind.SingletonReuse, reuse.Kind);
        Assert.Equal("bob", reuse.Context!.UserId);
        Assert.Equal("alice", reuse.OtherContext!.UserId);
    }

    [Fact]
    public async Task PooledCustomFactory_SharedInstanceInEnforce_SecondLiveScopeThrows()
    {
        var shared = new PooledNotesAgent();
        await using var host = TestHost.Create(s => s.AddIsolatedAgent(_ => shared, o => o.UsePool = true), o => o.Mode = IsolationMode.Enforce);

        await using var alice = host.CreateScope("alice");
        alice.GetAgent<PooledNotesAgent>();
        await using var bob = host.CreateScope("bob");

        Assert.Equal(ViolationKind.SingletonReuse, Assert.Throws<IsolationViolationException>(() => bob.GetAgent<PooledNotesAgent>()).Kind);
    }

    [Fact]
    public async Task ApplicationFactory_AgentAttachedCheckedAndReuseReported()
    {
        var factory = new SharingFactory();
        await using var host = TestHost.Create(s => s.AddSingleton<IAgentFactory<PooledNotesAgent>>(factory), o => o.Mode = IsolationMode.Observe);
        var violations = host.CaptureViolations();

        var alice = host.CreateScope("alice");
        var agent = alice.GetAgent<PooledNotesAgent>();
        agent.Add("alice's note");
        await using (var bob = host.CreateScope("bob"))
        {
            agent.Add("from bob's flow"); // bob's scope is current here: a cross-scope use
            Assert.Same(agent, bob.GetAgent<PooledNotesAgent>());
        }

        await alice.DisposeAsync();
        agent.Add("after alice's scope ended");

        Assert.Equal(
            new[] { ViolationKind.CrossScopeAccess, ViolationKind.SingletonReuse, ViolationKind.UseAfterDispose },
            violations.Select(v => v.Kind));
    }

    [Fact]
    public async Task AddIsolatedAgent_SecondCall_ReplacesTheFactoryAndTheOptions()
    {
        var second = new PooledNotesAgent();
        await using var host = TestHost.Create(s => s
            .AddIsolatedAgent<PooledNotesAgent>(o => o.UsePool = true)
            .AddIsolatedAgent(_ => second));
        var options = host.Provider.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<IsolatedAgentOptions>>()
            .Get(typeof(PooledNotesAgent).FullName);

        await using var scope = host.CreateScope();

        Assert.Same(second, scope.GetAgent<PooledNotesAgent>());
        Assert.False(options.UsePool);
        Assert.Single(host.Provider.GetServices<IAgentFactory<PooledNotesAgent>>());
    }

    // 8. Checks that silence themselves.
    [Fact]
    public async Task GetAgent_FromAFlowWithoutScope_DoesNotMakeTheScopeCurrentThere()
    {
        await using var host = TestHost.Create(s => s.AddScoped<ScopedDependency>().AddIsolatedAgent<NotesAgent>(), o => o.Mode = IsolationMode.Observe);
        var violations = host.CaptureViolations();
        await using var scope = host.CreateScope("alice");

        var (currentAfter, _) = await RunWithoutScope(() =>
        {
            var agent = scope.GetAgent<NotesAgent>();
            var current = IsolationScope.Current;
            agent.Add("from a foreign flow");
            return current;
        });

        Assert.Null(currentAfter);
        Assert.Equal(ViolationKind.CrossScopeAccess, Assert.Single(violations).Kind);
    }

    // 9. `new` of an agent is caught nowhere at run time.
    [Theory]
    [InlineData(IsolationMode.Observe)]
    [InlineData(IsolationMode.Enforce)]
    public async Task NewIsolatedAgent_UsedInsideAScope_ReportedAsUnownedAgent(IsolationMode mode)
    {
        await using var host = TestHost.Create(options: o => o.Mode = mode);
        var violations = host.CaptureViolations();
        var agent = new PooledNotesAgent();

        await using (var scope = host.CreateScope("alice"))
        {
            if (mode == IsolationMode.Enforce)
            {
                Assert.Equal(ViolationKind.UnownedAgent, Assert.Throws<IsolationViolationException>(() => agent.Add("x")).Kind);
            }
            else
            {
                agent.Add("x");
            }

            Assert.Equal(1, scope.ViolationCount);
        }

        var violation = Assert.Single(violations);
        Assert.Equal(ViolationKind.UnownedAgent, violation.Kind);
        Assert.Contains("AddIsolatedAgent<PooledNotesAgent>", violation.Message, StringComparison.Ordinal);
        Assert.Equal("unowned_agent", violation.Kind.ToTagValue());
    }

    [Fact]
    public void NewIsolatedAgent_UsedOutsideAnyScope_NothingToReportTo()
    {
        var agent = new PooledNotesAgent();

        agent.Add("unit test of the agent itself");

        Assert.Single(agent.Notes);
    }

    private static async Task<(T Result, bool Done)> RunWithoutScope<T>(Func<T> action)
    {
        Task<T> task;
        using (ExecutionContext.SuppressFlow())
        {
            task = Task.Run(action);
        }

        return (await task, true);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (ExecutionContext Captured, WeakReference<ScopedDependency> Service) CaptureWhileCurrent(TestHost host)
    {
        var scope = host.CreateScope();
        var service = new WeakReference<ScopedDependency>(scope.Services.GetRequiredService<ScopedDependency>());
        var captured = ExecutionContext.Capture()!;
        scope.Dispose();
        return (captured, service);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ExecutionContext CaptureUndisposed(TestHost host)
    {
        var scope = host.CreateScope("forgotten");
        GC.KeepAlive(scope);

        // Never disposed; the only thing left that saw it is an execution context captured while it was current.
        return ExecutionContext.Capture()!;
    }

    private static void ForceFullCollection()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
        }
    }

    private sealed class ThrowingModeProvider : IIsolationModeProvider
    {
        public IsolationMode GetMode(UserExecutionContext context) => throw new InvalidOperationException("feature flag service unavailable");
    }

    private sealed class AsyncOnlyService : IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public async ValueTask DisposeAsync()
        {
            await Task.Yield();
            Disposed = true;
        }
    }

    private sealed class SyncService : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    private sealed class ThrowingService : IDisposable
    {
        public void Dispose() => throw new InvalidOperationException("dispose failed");
    }

    private sealed class SharingFactory : IAgentFactory<PooledNotesAgent>
    {
        private readonly PooledNotesAgent _shared = new();

        public PooledNotesAgent Create(IsolationScope scope) => _shared;
    }
}
