using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation;

/// <summary>
/// How a fresh agent is constructed. Where it changes nothing a user can see, the agent type is also registered as a
/// keyed transient under a key only the library holds, and a fresh agent is resolved through it from the scope's
/// provider: DI's own compiled call site reaches the scoped dependencies directly, where a factory compiled by
/// <see cref="ActivatorUtilities.CreateFactory{T}(Type[])"/> asks the provider once per constructor parameter.
/// </summary>
internal static class AgentActivation
{
    /// <summary>Gets the service key of the library's keyed registrations of agent types.</summary>
    public static object Key { get; } = new ActivationKey();

    /// <summary>Gets whether <paramref name="descriptor"/> is the library's keyed registration of an agent type.</summary>
    public static bool IsActivation(ServiceDescriptor descriptor) => descriptor.IsKeyedService && ReferenceEquals(descriptor.ServiceKey, Key);

    private sealed class ActivationKey
    {
        public override string ToString() => "Isolation agent activation";
    }
}

/// <summary>Whether fresh agents of <typeparamref name="TAgent"/> are resolved through DI's own call site.</summary>
/// <typeparam name="TAgent">The agent type.</typeparam>
internal static class AgentActivation<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TAgent>
    where TAgent : class
{
    /// <summary>
    /// Gets a value indicating whether DI's call site builds the agent exactly as
    /// <see cref="ActivatorUtilities.CreateFactory{T}(Type[])"/> would, and nothing else changes: one public constructor
    /// (so both pick the same one), with parameters (without any there is nothing to resolve, and the compiled factory is
    /// already a bare <c>new</c>), none of them <see cref="ServiceKeyAttribute"/> (DI would pass the library's key), and an
    /// agent that is neither <see cref="IDisposable"/> nor <see cref="IAsyncDisposable"/> (DI would dispose it a second
    /// time, with its DI scope, after the isolation scope did).
    /// </summary>
    public static bool ThroughContainer { get; } = Decide();

    /// <summary>
    /// Gets a value indicating whether the agent's only public constructor takes no parameters: the compiled constructor
    /// call never asks a provider for anything, so a fresh agent needs no DI scope (the scope creates none for it).
    /// </summary>
    public static bool WithoutServices { get; } =
        typeof(TAgent).GetConstructors() is [var only] && only.GetParameters().Length == 0;

    private static bool Decide()
    {
        var type = typeof(TAgent);
        if (type.IsAbstract || typeof(IDisposable).IsAssignableFrom(type) || typeof(IAsyncDisposable).IsAssignableFrom(type))
        {
            return false;
        }

        var constructors = type.GetConstructors();
        if (constructors.Length != 1)
        {
            return false;
        }

        var parameters = constructors[0].GetParameters();
        return parameters.Length > 0 && !Array.Exists(parameters, p => p.IsDefined(typeof(ServiceKeyAttribute), inherit: false));
    }
}
