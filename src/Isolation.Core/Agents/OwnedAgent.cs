namespace Isolation;

/// <summary>
/// A scope's record of one agent it does not pool: at scope end it hands the agent to leak tracking (tracked scopes),
/// disposes it when the scope owns its lifetime, and detaches it so a later use is reported.
/// </summary>
internal sealed class OwnedAgent : IScopeResource
{
    private readonly object _agent;
    private readonly bool _dispose;
    private readonly string? _creationStackTrace;

    /// <param name="agent">The agent.</param>
    /// <param name="resourceType">The agent's type name.</param>
    /// <param name="dispose">Whether the scope disposes the agent: always for agents the library activated; for agents from an application's factory only in <see cref="IsolationMode.Enforce"/>.</param>
    /// <param name="creationStackTrace">Where it was created, when leak detection records it.</param>
    public OwnedAgent(object agent, string resourceType, bool dispose, string? creationStackTrace)
    {
        _agent = agent;
        ResourceType = resourceType;
        _dispose = dispose;
        _creationStackTrace = creationStackTrace;
    }

    public string ResourceType { get; }

    public ValueTask ReleaseAsync(IsolationScope scope)
    {
        if (scope.IsTracked)
        {
            scope.Monitor.Leaks.TrackEndedAgent(_agent, ResourceType, scope, _creationStackTrace);
        }

        if (_dispose)
        {
            if (_agent is IAsyncDisposable asyncDisposable)
            {
                var pending = asyncDisposable.DisposeAsync();
                if (!pending.IsCompletedSuccessfully)
                {
                    return DetachAfter(pending);
                }
            }
            else
            {
                (_agent as IDisposable)?.Dispose();
            }
        }

        (_agent as IsolatedAgent)?.Detach(returnedToPool: false);
        return default;
    }

    private async ValueTask DetachAfter(ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        finally
        {
            (_agent as IsolatedAgent)?.Detach(returnedToPool: false);
        }
    }
}
