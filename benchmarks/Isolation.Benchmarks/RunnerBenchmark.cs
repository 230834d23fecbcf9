using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.RateLimiting;

namespace Isolation.Benchmarks;

/// <summary>
/// What the runner adds to one turn, against what a .NET user would write instead. The work is the same everywhere: an
/// agent, an agent conversation session and one event in a fresh isolation scope. <c>ScopeOnly</c> (the baseline) runs
/// it in a scope and sends <c>agent_started</c> and <c>agent_completed</c> itself. <c>Runner</c> runs it through
/// <see cref="IIsolatedRunner"/> (per-user limit, deadline, both events sent by the runner, status and accounting).
/// <c>Polly</c> runs the baseline's turn through a Polly v8 <see cref="ResiliencePipeline"/>: a per-user concurrency
/// limiter (a partitioned <see cref="ConcurrencyLimiter"/>, the same limit of 4) and a timeout strategy with the runner's
/// default deadline. With <c>Yields</c> the work awaits once, as an I/O call does; without, it completes synchronously.
/// Goals: the runner at most 2 µs and 512 B over the baseline, and no more overhead than the pipeline's.
/// </summary>
public class RunnerBenchmark
{
    private const string UserId = "alice";
    private const string ConnectionId = "c-1";
    private static readonly object Payload = new();
    private static readonly ResiliencePropertyKey<string> UserKey = new("isolation.user");

    private ServiceProvider _provider = null!;
    private IIsolationScopeFactory _scopes = null!;
    private IIsolatedRunner _runner = null!;
    private ChannelSink _sink = null!;
    private IDisposable _registration = null!;
    private PartitionedRateLimiter<string> _userLimiter = null!;
    private ResiliencePipeline _pipeline = null!;
    private Func<IsolationScope, CancellationToken, Task> _work = null!;

    [Params(false, true)]
    public bool Yields { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddIsolation()
            .AddIsolatedAgent<FreshAgent>()
            .AddIsolatedSession<Conversation>(Conversation.CreateAsync)
            .BuildServiceProvider();
        _scopes = _provider.GetRequiredService<IIsolationScopeFactory>();
        _runner = _provider.GetRequiredService<IIsolatedRunner>();
        _sink = new ChannelSink(UserId, ConnectionId);
        _registration = _provider.GetRequiredService<IConnectionRegistry>().Register(_sink);
        _work = Yields ? WorkYieldingAsync : WorkAsync;

        var runnerDefaults = new IsolatedRunnerOptions();
        _userLimiter = PartitionedRateLimiter.Create<string, string>(user => RateLimitPartition.GetConcurrencyLimiter(
            user,
            _ => new ConcurrencyLimiterOptions { PermitLimit = runnerDefaults.MaxConcurrentRunsPerUser, QueueLimit = 0 }));
        _pipeline = new ResiliencePipelineBuilder()
            .AddRateLimiter(new RateLimiterStrategyOptions
            {
                RateLimiter = args => _userLimiter.AcquireAsync(args.Context.Properties.GetValue(UserKey, string.Empty), 1, args.Context.CancellationToken),
            })
            .AddTimeout(runnerDefaults.DefaultDeadline)
            .Build();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _registration.Dispose();
        _userLimiter.Dispose();
        _provider.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public async Task<int> ScopeOnly()
    {
        await TurnAsync(_scopes, _work, CancellationToken.None);
        return _sink.Drain();
    }

    [Benchmark]
    public async Task<int> Runner()
    {
        var result = await _runner.RunAsync(new UserExecutionContext(UserId, ConnectionId), _work);
        if (result.Status != RunStatus.Completed)
        {
            throw new InvalidOperationException("The benchmark run did not complete: " + result.Status, result.Exception);
        }

        return _sink.Drain();
    }

    [Benchmark]
    public async Task<int> Polly()
    {
        var context = ResilienceContextPool.Shared.Get(CancellationToken.None);
        context.Properties.Set(UserKey, UserId);
        try
        {
            await _pipeline.ExecuteAsync(
                static async (context, state) => await TurnAsync(state._scopes, state._work, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext),
                context,
                this);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        return _sink.Drain();
    }

    private static async Task TurnAsync(IIsolationScopeFactory scopes, Func<IsolationScope, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateScope(new UserExecutionContext(UserId, ConnectionId));
        await scope.Events.EmitAsync(AgentEventTypes.AgentStarted, null, cancellationToken);
        await work(scope, cancellationToken);
        await scope.Events.EmitAsync(AgentEventTypes.AgentCompleted, Payload, cancellationToken);
    }

    private static async Task WorkAsync(IsolationScope scope, CancellationToken cancellationToken)
    {
        scope.GetAgent<FreshAgent>().Add("hello");
        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, Payload, cancellationToken);
        await using var session = await scope.OpenSessionAsync<Conversation>(cancellationToken);
        using (session.Enter())
        {
            session.Session.Add("hello");
        }
    }

    private static async Task WorkYieldingAsync(IsolationScope scope, CancellationToken cancellationToken)
    {
        await Task.Yield();
        await WorkAsync(scope, cancellationToken);
    }
}
