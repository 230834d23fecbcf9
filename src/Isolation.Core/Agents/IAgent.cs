namespace Isolation;

/// <summary>
/// Marks a type as an agent: per-request state that must never be shared between users. The analyzers treat every
/// implementation as request-scoped (a singleton registration, a static field or a singleton's field holding one fails
/// the build), and <see cref="IsolationScope.GetAgent{TAgent}"/> hands out one per scope.
/// </summary>
public interface IAgent
{
}
