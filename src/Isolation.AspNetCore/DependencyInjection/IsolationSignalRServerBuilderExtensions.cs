using Isolation.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds isolation to SignalR hubs.</summary>
public static class IsolationSignalRServerBuilderExtensions
{
    /// <summary>
    /// Adds the isolation hub filter to every hub: one <see cref="Isolation.IsolationScope"/> per hub method invocation
    /// (for the user of <c>Context.UserIdentifier</c>; a connection without one gets a <see cref="HubException"/>), and each
    /// connection of an authenticated user registered in <see cref="Isolation.IConnectionRegistry"/>, so the user's agent
    /// events reach that user's connections only. Adds the isolation runtime when it is not registered yet. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The SignalR builder from <c>services.AddSignalR()</c>.</param>
    /// <returns>The SignalR builder.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddIsolation();
    /// builder.Services.AddSignalR().AddIsolation();
    /// </code>
    /// </example>
    public static ISignalRServerBuilder AddIsolation(this ISignalRServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(IsolationHubFilter)))
        {
            return builder;
        }

        services.AddIsolation();
        services.AddOptions<IsolationHubOptions>()
            .Validate(o => !string.IsNullOrWhiteSpace(o.ClientMethod), "IsolationHubOptions.ClientMethod must not be empty: it is the client method agent events are sent to (default \"isolation\").")
            .Validate(o => o.InvocationDeadline is null || o.InvocationDeadline > TimeSpan.Zero, "IsolationHubOptions.InvocationDeadline must be positive, or null for IsolationOptions.DefaultDeadline.")
            .ValidateOnStart();
        services.TryAddSingleton<IsolationHubFilter>();
        services.Configure<HubOptions>(o => o.AddFilter<IsolationHubFilter>());
        return builder;
    }

    /// <summary>Adds the isolation hub filter (see <see cref="AddIsolation(ISignalRServerBuilder)"/>) and configures its options.</summary>
    /// <param name="builder">The SignalR builder from <c>services.AddSignalR()</c>.</param>
    /// <param name="configure">Configures the options, e.g. the client method events arrive on.</param>
    /// <returns>The SignalR builder.</returns>
    public static ISignalRServerBuilder AddIsolation(this ISignalRServerBuilder builder, Action<IsolationHubOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddIsolation(builder);
        builder.Services.Configure(configure);
        return builder;
    }
}
