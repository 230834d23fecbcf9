using System.Diagnostics;
using Isolation.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation;

/// <content>Disposal: release owned resources in reverse order, never throw, record the outcome.</content>
public sealed partial class IsolationScope
{
    /// <summary>
    /// Ends the scope: cancels <see cref="Aborted"/>, releases owned resources in reverse order of acquisition
    /// (reporting, not throwing, when one fails or was leaked), disposes the DI scope and records metrics.
    /// Safe to call more than once.
    /// </summary>
    /// <returns>A task that completes when everything is released.</returns>
    public ValueTask DisposeAsync()
    {
        if (!BeginDispose())
        {
            return default;
        }

        var (first, more) = TakeResources();
        if (more is null && first is not null)
        {
            // The common case, one agent or session: release it without an async state machine when it completes synchronously.
            var release = ReleaseOne(first);
            if (!release.IsCompletedSuccessfully)
            {
                return ReleaseAndFinishAsync(release, null, null);
            }

            first = null;
        }

        return first is null && more is null ? FinishDisposeAsync() : ReleaseAndFinishAsync(default, first, more);
    }

    /// <summary>
    /// Ends the scope synchronously. Prefer <see cref="DisposeAsync"/>: a resource that can only be released
    /// asynchronously is waited for here, blocking the calling thread.
    /// </summary>
    public void Dispose()
    {
        if (!BeginDispose())
        {
            return;
        }

        var (first, more) = TakeResources();
        for (var i = (more?.Count ?? 0) - 1; i >= 0; i--)
        {
            WaitFor(ReleaseOne(more![i]));
        }

        if (first is not null)
        {
            WaitFor(ReleaseOne(first));
        }

        // Always the DI scope's asynchronous disposal, blocked on when needed: its synchronous Dispose throws part way at
        // the first service that is only IAsyncDisposable, and then disposes nothing more (the scope is marked disposed).
        WaitFor(DisposeServiceScopeAsync());
        Finish();
    }

    /// <summary>
    /// Marks the scope as ending (once), restores the ambient scope synchronously (so it holds for the caller even
    /// when disposal continues asynchronously) and cancels the abort token.
    /// </summary>
    private static void WaitFor(ValueTask release)
    {
        if (!release.IsCompletedSuccessfully)
        {
            release.AsTask().GetAwaiter().GetResult();
        }
    }

    private bool BeginDispose()
    {
        if ((Interlocked.Or(ref _flags, DisposingFlag) & DisposingFlag) != 0)
        {
            return false;
        }

        // With no scope before this one, the cleared holder already reads as none: leaving it saves the write (and the copy
        // of the execution context's values it would make).
        _ambient.Clear();
        if (_previous is not null && ReferenceEquals(CurrentScope.Value, _ambient))
        {
            CurrentScope.Value = _previous;
        }

        // Like the ambient scope, the ambient activity is restored for the caller before disposal goes asynchronous.
        if (_activity is not null && ReferenceEquals(Activity.Current, _activity))
        {
            Activity.Current = _activity.Parent;
        }

        if (Volatile.Read(ref _deadlineTimer) is not null)
        {
            Interlocked.Exchange(ref _deadlineTimer, null)?.Dispose();
        }

        if (Volatile.Read(ref _abortSource) is { } source)
        {
            CancelAbortSource(source);
        }

        return true;
    }

    /// <summary>Awaits a release already started, then releases the others newest first, then finishes.</summary>
    private async ValueTask ReleaseAndFinishAsync(ValueTask started, IScopeResource? first, List<IScopeResource>? more)
    {
        await started.ConfigureAwait(false);
        for (var i = (more?.Count ?? 0) - 1; i >= 0; i--)
        {
            await ReleaseOne(more![i]).ConfigureAwait(false);
        }

        if (first is not null)
        {
            await ReleaseOne(first).ConfigureAwait(false);
        }

        await FinishDisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask FinishDisposeAsync()
    {
        await DisposeServiceScopeAsync().ConfigureAwait(false);
        Finish();
    }

    private ValueTask DisposeServiceScopeAsync()
    {
        // The scope keeps no reference to its DI scope once disposal starts, so nothing it owned outlives it through a
        // reference to the disposed scope (a captured closure, a field of an agent). A scope whose services were never
        // used has no DI scope to dispose.
        var serviceScope = Interlocked.Exchange(ref _serviceScope, EndedServiceScope.Instance);
        if (serviceScope is null or EndedServiceScope)
        {
            return default;
        }

        try
        {
            var pending = new AsyncServiceScope(serviceScope).DisposeAsync();
            return pending.IsCompletedSuccessfully ? default : AwaitServiceScope(pending);
        }
#pragma warning disable CA1031 // Disposal reports a failing service instead of throwing it at the caller.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ResourceReleaseFailed(Monitor.Logger, ex, "IServiceScope", Context.ToString());
            return default;
        }
    }

    private async ValueTask AwaitServiceScope(ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Disposal reports a failing service instead of throwing it at the caller.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ResourceReleaseFailed(Monitor.Logger, ex, "IServiceScope", Context.ToString());
        }
    }

    /// <summary>Releases one resource; a failure, synchronous or not, is logged and swallowed.</summary>
    private ValueTask ReleaseOne(IScopeResource resource)
    {
        try
        {
            var pending = resource.ReleaseAsync(this);
            return pending.IsCompletedSuccessfully ? default : AwaitRelease(pending, resource);
        }
#pragma warning disable CA1031 // One failing resource must not keep the others from being released.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ResourceReleaseFailed(Monitor.Logger, ex, resource.ResourceType, Context.ToString());
            return default;
        }
    }

    private async ValueTask AwaitRelease(ValueTask pending, IScopeResource resource)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // One failing resource must not keep the others from being released.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ResourceReleaseFailed(Monitor.Logger, ex, resource.ResourceType, Context.ToString());
        }
    }

    private void CancelAbortSource(CancellationTokenSource source)
    {
        try
        {
            // Cancelling also stops the deadline timer. The source is not disposed so that Aborted stays readable.
            source.Cancel();
        }
#pragma warning disable CA1031 // A callback registered on Aborted threw; the scope still ends.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ResourceReleaseFailed(Monitor.Logger, ex, "Aborted callback", Context.ToString());
        }
    }

    private void Finish()
    {
        _sentinel?.Disarm();
        var old = Interlocked.Or(ref _flags, FinishedFlag);
        _factory.Monitor.ScopeFinished(hadViolations: (old & DirtyFlag) != 0);

        // Recorded last: a listener that sees the duration sees the scope counted as finished.
        var status = ResolveStatus();
        _factory.Monitor.Metrics.ScopeEnded(_startTimestamp, status);
        if (_activity is not null)
        {
            IsolationActivity.StopScope(_activity, status);
        }
    }
}
