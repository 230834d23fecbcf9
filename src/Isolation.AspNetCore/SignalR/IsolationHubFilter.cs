using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Isolation.AspNetCore.SignalR;

/// <summary>
/// Opens one <see cref="IsolationScope"/> per hub method invocation (current while it runs, aborted with the connection,
/// disposed when it ends or, for a streaming method, when its stream ends) and registers each connection of an
/// authenticated user in <see cref="IConnectionRegistry"/> with a <see cref="SignalREventSink"/>.
/// </summary>
internal sealed class IsolationHubFilter : IHubFilter
{
    private static readonly object SinkKey = new();
    private static readonly ConcurrentDictionary<Type, Func<IServiceProvider, IHubClients>> ClientsByHub = new();

    private readonly IServiceProvider _services;
    private readonly IIsolationScopeFactory _scopes;
    private readonly IConnectionRegistry _registry;
    private readonly IsolationMonitor _monitor;
    private readonly IsolationHubOptions _options;
    private readonly EventDeliveryOptions _delivery;
    private readonly ConnectionRegistry? _drops;
    private readonly ILogger _logger;

    public IsolationHubFilter(
        IServiceProvider services,
        IIsolationScopeFactory scopes,
        IConnectionRegistry registry,
        IsolationMonitor monitor,
        IOptions<IsolationHubOptions> options,
        IOptions<EventDeliveryOptions> delivery,
        ILoggerFactory? loggerFactory = null)
    {
        _services = services;
        _scopes = scopes;
        _registry = registry;
        _monitor = monitor;
        _options = options.Value;
        _delivery = delivery.Value;

        // Counts the events a full queue evicts (DropOldest); the default registry of AddIsolation(), resolvable as itself.
        _drops = services.GetService<ConnectionRegistry>();
        _logger = (ILogger?)loggerFactory?.CreateLogger("Isolation.AspNetCore.SignalR") ?? NullLogger.Instance;
    }

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var caller = invocationContext.Context;
        var context = CreateContext(caller, invocationContext.HubMethodName, invocationContext.Hub.GetType());
        var scope = _scopes.CreateScope(context, _options.InvocationDeadline);
        var stream = StreamScopes.For(invocationContext.HubMethod);
        var lease = new ScopeLease(scope, caller.ConnectionAborted)
        {
            // A stream is read after this method returns, on SignalR's flow: keep the flow where the scope is current.
            ExecutionContext = stream is null ? null : ExecutionContext.Capture(),
        };

        object? result;
        try
        {
            result = await next(invocationContext).ConfigureAwait(false);
        }
        catch (IsolationViolationException ex)
        {
            await lease.DisposeAsync().ConfigureAwait(false);

            // The violation's message names users; the client only learns what kind of boundary the call crossed.
            throw new HubException(
                $"The call to '{invocationContext.HubMethodName}' was stopped by an isolation violation ({ex.Kind.ToTagValue()}). The server's logs and the isolation.violations metric have the details.",
                ex);
        }
        catch
        {
            await lease.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (stream is not null && result is not null && stream.Wrap(result, lease) is { } wrapped)
        {
            return wrapped;
        }

        await lease.DisposeAsync().ConfigureAwait(false);
        return result;
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        var caller = context.Context;
        SignalREventSink? sink = null;
        if (_options.RegisterConnections && !string.IsNullOrWhiteSpace(caller.UserIdentifier))
        {
            var clients = ClientsByHub.GetOrAdd(context.Hub.GetType(), CreateClientsAccessor)(_services);
            sink = new SignalREventSink(
                clients.Client(caller.ConnectionId),
                caller.UserIdentifier,
                caller.ConnectionId,
                _options.ClientMethod,
                _delivery,
                _drops,
                caller.Abort,
                _monitor,
                _logger);
            IDisposable registration;
            try
            {
                registration = _registry.Register(sink);
            }
            catch (InvalidOperationException refused)
            {
                // Refused by the registry (EventDeliveryOptions.MaxConnectionsPerUser): SignalR closes the connection, and a
                // HubException's message is the one error text it sends the client, so the client reads why.
                await sink.DisposeAsync().ConfigureAwait(false);
                throw new HubException(refused.Message, refused);
            }

            sink.Start(registration, caller.ConnectionAborted);
            caller.Items[SinkKey] = sink;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch
        {
            if (sink is not null)
            {
                await sink.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        try
        {
            await next(context, exception).ConfigureAwait(false);
        }
        finally
        {
            if (context.Context.Items.TryGetValue(SinkKey, out var value) && value is SignalREventSink sink)
            {
                context.Context.Items.Remove(SinkKey);
                await sink.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The context of a call from <paramref name="caller"/>: its user (from <c>IUserIdProvider</c>) and connection.</summary>
    internal static UserExecutionContext CreateContext(HubCallerContext caller, string method, Type hubType)
    {
        var userId = caller.UserIdentifier;
        if (string.IsNullOrWhiteSpace(userId))
        {
            throw new HubException(
                $"'{method}' on {hubType.Name} runs isolated per user, but this connection has no user: Context.UserIdentifier is empty. Authenticate the connection (for example [Authorize] on the hub and an access token on the client), or register an IUserIdProvider that returns the user's id.");
        }

        try
        {
            return new UserExecutionContext(userId, caller.ConnectionId);
        }
        catch (ArgumentException ex)
        {
            throw new HubException(
                $"'{method}' on {hubType.Name} runs isolated per user, but this connection's user id cannot identify a user ({ex.Message}). Make IUserIdProvider return a stable id of at most {UserExecutionContext.MaxIdLength} characters.",
                ex);
        }
    }

    private static Func<IServiceProvider, IHubClients> CreateClientsAccessor(Type hubType)
    {
        var method = typeof(IsolationHubFilter).GetMethod(nameof(GetClients), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(hubType);
        return method.CreateDelegate<Func<IServiceProvider, IHubClients>>();
    }

    private static IHubClients GetClients<THub>(IServiceProvider services)
        where THub : Hub
        => services.GetRequiredService<IHubContext<THub>>().Clients;
}
