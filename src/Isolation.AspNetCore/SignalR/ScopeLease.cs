namespace Isolation.AspNetCore.SignalR;

/// <summary>The scope of one hub invocation and its link to the connection: disposed once, by whoever ends the invocation.</summary>
internal sealed class ScopeLease
{
    private IsolationScope? _scope;
    private CancellationTokenRegistration _connectionAborted;

    public ScopeLease(IsolationScope scope, CancellationToken connectionAborted)
    {
        _scope = scope;
        _connectionAborted = connectionAborted.UnsafeRegister(static s => ((IsolationScope)s!).Abort(), scope);
    }

    /// <summary>Gets the scope, as the execution context that made it current (for streams read on SignalR's own flow).</summary>
    public ExecutionContext? ExecutionContext { get; init; }

    public ValueTask DisposeAsync()
    {
        var scope = Interlocked.Exchange(ref _scope, null);
        if (scope is null)
        {
            return ValueTask.CompletedTask;
        }

        _connectionAborted.Dispose();
        return scope.DisposeAsync();
    }
}
