namespace Isolation;

/// <summary>
/// Marks the library's own agent factory: the agents it returns are already attached to their scope and checked for
/// reuse. An agent from any other <see cref="IAgentFactory{TAgent}"/> is attached and checked by the scope instead.
/// </summary>
internal interface IBuiltInAgentFactory
{
}
