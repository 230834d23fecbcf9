using System.Globalization;
using System.Runtime.CompilerServices;

namespace Isolation;

/// <summary>
/// Which scope each agent from an application's factory was handed to, to catch one instance reaching two scopes
/// (<see cref="ViolationKind.SingletonReuse"/>): what a singleton agent looks like at run time. Weak keys: the table never
/// keeps an agent alive.
/// </summary>
internal sealed class AgentHandOuts
{
    private readonly ConditionalWeakTable<object, HandOut> _owners = new();

    /// <summary>The table shared by every application-implemented <see cref="IAgentFactory{TAgent}"/>.</summary>
    public static AgentHandOuts ForApplicationFactories { get; } = new();

    /// <summary>Reports (and in Enforce throws) when <paramref name="agent"/> is held by another scope, then records this one.</summary>
    public void HandTo(object agent, IsolationScope scope, string typeName, string source)
    {
        if (scope.Mode == IsolationMode.Off)
        {
            return;
        }

        if (_owners.TryGetValue(agent, out var previous) && previous.ScopeId != scope.Id)
        {
            scope.ReportViolation(new IsolationViolation(
                ViolationKind.SingletonReuse,
                typeName,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "{0} returned the same instance of agent {1} to the scope of {2} that it already gave to the scope of {3}: the agent is shared like a singleton, so one user's state reaches another's. Return a new instance on every call, and do not register the agent as a singleton.",
                    source,
                    typeName,
                    scope.Context,
                    previous.Context),
                scope.Context,
                previous.Context,
                creationStackTrace: null));
        }

        _owners.AddOrUpdate(agent, new HandOut(scope.Id, scope.Context));
    }

    /// <summary>Forgets <paramref name="agent"/> when <paramref name="scope"/> still holds it (a pooled agent going back to its pool).</summary>
    public void Returned(object agent, IsolationScope scope)
    {
        if (_owners.TryGetValue(agent, out var owner) && owner.ScopeId == scope.Id)
        {
            _owners.Remove(agent);
        }
    }

    private sealed record HandOut(long ScopeId, UserExecutionContext Context);
}
