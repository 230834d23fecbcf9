using ChatServer.Data;
using Isolation;

namespace ChatServer.Agents;

/// <summary>Reads fault markers from a message and carries them out. Sample-only: off unless <c>Chat:FaultInjection</c> is true.</summary>
public static class InjectedFaults
{
    public static readonly TimeSpan SlowToolDelay = TimeSpan.FromMilliseconds(400);

    public static InjectedFault Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains("#fail", StringComparison.Ordinal))
        {
            return InjectedFault.Exception;
        }

        if (text.Contains("#dberror", StringComparison.Ordinal))
        {
            return InjectedFault.DatabaseError;
        }

        if (text.Contains("#hang", StringComparison.Ordinal))
        {
            return InjectedFault.Hang;
        }

        if (text.Contains("#stuck", StringComparison.Ordinal))
        {
            return InjectedFault.Stuck;
        }

        return text.Contains("#slow", StringComparison.Ordinal) ? InjectedFault.Slow : InjectedFault.None;
    }

    /// <summary>
    /// Carries out <paramref name="fault"/> inside a tool call of <paramref name="scope"/>'s run. <paramref name="stuckFor"/> is how
    /// long <see cref="InjectedFault.Stuck"/> ignores cancellation: past the run's deadline, so the runner abandons it.
    /// </summary>
    public static async Task ApplyAsync(InjectedFault fault, IsolationScope scope, TimeSpan stuckFor, CancellationToken cancellationToken)
    {
        switch (fault)
        {
            case InjectedFault.Exception:
                throw new InvalidOperationException($"Injected tool failure (#fail) in run {scope.Context.RunId}.");
            case InjectedFault.DatabaseError:
                await ChatStore.QueryMissingTableAsync(scope, cancellationToken);
                break;
            case InjectedFault.Hang:
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                break;
            case InjectedFault.Stuck:
                // Deliberately ignores the token: this is the "blocking call without a timeout" the runner must contain.
                await Task.Delay(stuckFor, CancellationToken.None);
                break;
            case InjectedFault.Slow:
                await Task.Delay(SlowToolDelay, cancellationToken);
                break;
        }
    }
}
