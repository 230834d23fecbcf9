namespace Isolation.Analyzers.Tests.Infrastructure;

/// <summary>
/// Small declarations of the well-known external types, with their real namespaces and metadata names, so the tests
/// compile offline against Basic.Reference.Assemblies without the real packages. The analyzers match these exactly as
/// they match the real types: by metadata name and symbol equality.
/// </summary>
internal static class Stubs
{
    public const string FileName = "Stubs.cs";

    public const string Source = """
        #nullable enable
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;

        namespace Isolation
        {
            public interface IAgent { }

            [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface, Inherited = true)]
            public sealed class RequestScopedAttribute : Attribute { }

            public interface IAgentFactory<out TAgent> where TAgent : class { TAgent Create(IsolationScope scope); }

            public sealed class IsolationScope : IAsyncDisposable, IDisposable
            {
                public TAgent GetAgent<TAgent>() where TAgent : class => throw new NotSupportedException();
                public ValueTask DisposeAsync() => default;
                public void Dispose() { }
            }
        }

        namespace Microsoft.Extensions.DependencyInjection
        {
            public interface IServiceCollection : IList<ServiceDescriptor> { }

            public enum ServiceLifetime { Singleton, Scoped, Transient }

            public class ServiceDescriptor
            {
                public ServiceDescriptor(Type serviceType, Type implementationType, ServiceLifetime lifetime) { }
                public ServiceDescriptor(Type serviceType, object? serviceKey, Type implementationType, ServiceLifetime lifetime) { }
                public ServiceDescriptor(Type serviceType, object instance) { }
                public ServiceDescriptor(Type serviceType, Func<IServiceProvider, object> factory, ServiceLifetime lifetime) { }
                public static ServiceDescriptor Describe(Type serviceType, Type implementationType, ServiceLifetime lifetime) => null!;
                public static ServiceDescriptor Describe(Type serviceType, Func<IServiceProvider, object> implementationFactory, ServiceLifetime lifetime) => null!;
                public static ServiceDescriptor Singleton<TService, TImplementation>() where TService : class where TImplementation : class, TService => null!;
                public static ServiceDescriptor Singleton(Type serviceType, object implementationInstance) => null!;
                public static ServiceDescriptor Scoped<TService, TImplementation>() where TService : class where TImplementation : class, TService => null!;
            }

            public static class ServiceCollectionServiceExtensions
            {
                public static IServiceCollection AddSingleton<TService>(this IServiceCollection services) where TService : class => services;
                public static IServiceCollection AddSingleton<TService, TImplementation>(this IServiceCollection services) where TService : class where TImplementation : class, TService => services;
                public static IServiceCollection AddSingleton<TService>(this IServiceCollection services, TService implementationInstance) where TService : class => services;
                public static IServiceCollection AddSingleton<TService>(this IServiceCollection services, Func<IServiceProvider, TService> implementationFactory) where TService : class => services;
                public static IServiceCollection AddSingleton(this IServiceCollection services, Type serviceType) => services;
                public static IServiceCollection AddSingleton(this IServiceCollection services, Type serviceType, Type implementationType) => services;
                public static IServiceCollection AddSingleton(this IServiceCollection services, Type serviceType, object implementationInstance) => services;
                public static IServiceCollection AddKeyedSingleton<TService>(this IServiceCollection services, object? serviceKey) where TService : class => services;
                public static IServiceCollection AddKeyedSingleton(this IServiceCollection services, Type serviceType, object? serviceKey) => services;
                public static IServiceCollection AddKeyedSingleton(this IServiceCollection services, Type serviceType, object? serviceKey, object implementationInstance) => services;
                public static IServiceCollection AddKeyedSingleton<TService>(this IServiceCollection services, object? serviceKey, TService implementationInstance) where TService : class => services;
                public static IServiceCollection AddScoped<TService>(this IServiceCollection services) where TService : class => services;
                public static IServiceCollection AddScoped<TService, TImplementation>(this IServiceCollection services) where TService : class where TImplementation : class, TService => services;
                public static IServiceCollection AddScoped<TService>(this IServiceCollection services, Func<IServiceProvider, TService> implementationFactory) where TService : class => services;
                public static IServiceCollection AddScoped(this IServiceCollection services, Type serviceType, Type implementationType) => services;
                public static IServiceCollection AddKeyedScoped<TService>(this IServiceCollection services, object? serviceKey) where TService : class => services;
                public static IServiceCollection AddTransient<TService>(this IServiceCollection services) where TService : class => services;
            }

            public static class ServiceCollectionHostedServiceExtensions
            {
                public static IServiceCollection AddHostedService<THostedService>(this IServiceCollection services) where THostedService : class, Microsoft.Extensions.Hosting.IHostedService => services;
            }

            public static class EntityFrameworkServiceCollectionExtensions
            {
                public static IServiceCollection AddDbContext<TContext>(this IServiceCollection services, Action<Microsoft.EntityFrameworkCore.DbContextOptionsBuilder>? optionsAction = null, ServiceLifetime contextLifetime = ServiceLifetime.Scoped, ServiceLifetime optionsLifetime = ServiceLifetime.Scoped) where TContext : Microsoft.EntityFrameworkCore.DbContext => services;
                public static IServiceCollection AddDbContext<TContext>(this IServiceCollection services, ServiceLifetime contextLifetime, ServiceLifetime optionsLifetime = ServiceLifetime.Scoped) where TContext : Microsoft.EntityFrameworkCore.DbContext => services;
                public static IServiceCollection AddDbContextFactory<TContext>(this IServiceCollection services, Action<Microsoft.EntityFrameworkCore.DbContextOptionsBuilder>? optionsAction = null, ServiceLifetime lifetime = ServiceLifetime.Singleton) where TContext : Microsoft.EntityFrameworkCore.DbContext => services;
                public static IServiceCollection AddDbContextPool<TContext>(this IServiceCollection services, Action<Microsoft.EntityFrameworkCore.DbContextOptionsBuilder> optionsAction, int poolSize = 1024) where TContext : Microsoft.EntityFrameworkCore.DbContext => services;
            }

            public static class IsolationServiceCollectionExtensions
            {
                public static IServiceCollection AddIsolatedAgent<TAgent>(this IServiceCollection services) where TAgent : class => services;
                public static IServiceCollection AddIsolatedAgent<TAgent>(this IServiceCollection services, Func<IServiceProvider, TAgent> factory) where TAgent : class => services;
            }
        }

        namespace Microsoft.Extensions.DependencyInjection.Extensions
        {
            public static class ServiceCollectionDescriptorExtensions
            {
                public static void TryAddSingleton<TService>(this IServiceCollection collection) where TService : class { }
                public static void TryAddSingleton<TService, TImplementation>(this IServiceCollection collection) where TService : class where TImplementation : class, TService { }
                public static void TryAddScoped<TService>(this IServiceCollection collection) where TService : class { }
                public static void TryAddScoped<TService, TImplementation>(this IServiceCollection collection) where TService : class where TImplementation : class, TService { }
            }
        }

        namespace Microsoft.Extensions.Hosting
        {
            public interface IHostedService
            {
                Task StartAsync(CancellationToken cancellationToken);
                Task StopAsync(CancellationToken cancellationToken);
            }

            public abstract class BackgroundService : IHostedService, IDisposable
            {
                protected abstract Task ExecuteAsync(CancellationToken stoppingToken);
                public virtual Task StartAsync(CancellationToken cancellationToken) => ExecuteAsync(cancellationToken);
                public virtual Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
                public virtual void Dispose() { }
            }
        }

        namespace Microsoft.EntityFrameworkCore
        {
            public class DbContext : IDisposable, IAsyncDisposable
            {
                public virtual Task<int> SaveChangesAsync(CancellationToken cancellationToken = default) => Task.FromResult(0);
                public virtual void Dispose() { }
                public virtual ValueTask DisposeAsync() => default;
            }

            public interface IDbContextFactory<TContext> where TContext : DbContext
            {
                TContext CreateDbContext();
            }

            public class DbContextOptionsBuilder { }
        }

        namespace Microsoft.Agents.AI
        {
            public abstract class AIAgent
            {
                public virtual async IAsyncEnumerable<AgentRunResponseUpdate> RunStreamingAsync(string message) { await Task.Yield(); yield break; }
            }

            public abstract class AgentSession { }
            public class AgentRunResponseUpdate { public string Text { get; set; } = ""; }
        }

        namespace Microsoft.Extensions.AI
        {
            public class ChatMessage { }
            public interface IChatClient : IDisposable { }
            public class ChatResponseUpdate { public string Text { get; set; } = ""; }
            public readonly struct ChatRole { public static ChatRole User => default; public static ChatRole Assistant => default; }
        }

        namespace System.Reactive.Subjects
        {
            public interface ISubject<in TSource, out TResult> : IObserver<TSource>, IObservable<TResult> { }
            public interface ISubject<T> : ISubject<T, T> { }
            public abstract class SubjectBase<T> : ISubject<T>, IDisposable
            {
                public abstract void OnNext(T value);
                public abstract void OnError(Exception error);
                public abstract void OnCompleted();
                public abstract IDisposable Subscribe(IObserver<T> observer);
                public abstract void Dispose();
            }
            public sealed class Subject<T> : SubjectBase<T>
            {
                public override void OnNext(T value) { }
                public override void OnError(Exception error) { }
                public override void OnCompleted() { }
                public override IDisposable Subscribe(IObserver<T> observer) => this;
                public override void Dispose() { }
            }
            public sealed class ReplaySubject<T> : SubjectBase<T>
            {
                public override void OnNext(T value) { }
                public override void OnError(Exception error) { }
                public override void OnCompleted() { }
                public override IDisposable Subscribe(IObserver<T> observer) => this;
                public override void Dispose() { }
            }
        }

        namespace Microsoft.Extensions.Options
        {
            public interface IOptions<out TOptions> where TOptions : class { TOptions Value { get; } }

            public interface IOptionsMonitor<out TOptions>
            {
                TOptions CurrentValue { get; }
                TOptions Get(string? name);
                IDisposable? OnChange(Action<TOptions, string?> listener);
            }

            public static class OptionsMonitorExtensions
            {
                public static IDisposable? OnChange<TOptions>(this IOptionsMonitor<TOptions> monitor, Action<TOptions> listener) => monitor.OnChange((o, _) => listener(o));
            }
        }

        namespace Microsoft.SemanticKernel.AI.ChatCompletion
        {
            // Semantic Kernel before 1.0.
            public class ChatHistory : List<object> { }
        }

        namespace LLama
        {
            public sealed class LLamaContext : IDisposable
            {
                public void Dispose() { }
                public int[] Tokenize(string text) => new int[0];
                public string DeTokenize(int[] tokens) => "";
                public int ContextSize => 0;
            }
            public sealed class InteractiveExecutor { public InteractiveExecutor(LLamaContext context) { } }
            public class ChatSession { }
        }

        namespace OpenAI.Chat
        {
            public abstract class ChatMessage { }
        }

        namespace OpenAI_API
        {
            // The OpenAI-API-dotnet package (NuGet "OpenAI" 1.x): a client, and the conversations it creates.
            public sealed class OpenAIAPI { public OpenAIAPI(string key) { } public OpenAI_API.Chat.ChatEndpoint Chat { get; } = new(); }
        }

        namespace OpenAI_API.Chat
        {
            public sealed class ChatEndpoint { public Conversation CreateConversation() => new(); }
            public sealed class Conversation { public void AppendUserInput(string text) { } }
            public sealed class ChatMessage { }
            public sealed class ChatMessageRole { }
        }

        namespace Microsoft.SemanticKernel
        {
            public class ChatMessageContent { }
        }

        namespace Microsoft.SemanticKernel.ChatCompletion
        {
            public class ChatHistory : List<Microsoft.SemanticKernel.ChatMessageContent> { }
        }

        namespace Microsoft.SemanticKernel.Agents
        {
            public abstract class AgentThread { }
        }

        namespace Microsoft.AspNetCore.Http
        {
            public abstract class HttpContext { }
            public delegate Task RequestDelegate(HttpContext context);
        }

        namespace Microsoft.AspNetCore.SignalR
        {
            public interface IClientProxy { Task SendCoreAsync(string method, object?[] args, CancellationToken cancellationToken = default); }

            public static class ClientProxyExtensions
            {
                public static Task SendAsync(this IClientProxy clientProxy, string method, object? arg1, CancellationToken cancellationToken = default)
                    => clientProxy.SendCoreAsync(method, new[] { arg1 }, cancellationToken);
            }

            public interface IHubClients<T>
            {
                T All { get; }
                T AllExcept(IReadOnlyList<string> excludedConnectionIds);
                T Client(string connectionId);
                T User(string userId);
                T Group(string groupName);
            }

            public interface IHubCallerClients<T> : IHubClients<T>
            {
                T Caller { get; }
                T Others { get; }
            }

            public interface IHubClients : IHubClients<IClientProxy> { }
            public interface IHubCallerClients : IHubCallerClients<IClientProxy>, IHubClients { }

            public abstract class Hub : IDisposable
            {
                public IHubCallerClients Clients { get; set; } = null!;
                public void Dispose() { }
            }

            public interface IHubContext<out THub> where THub : Hub
            {
                IHubClients Clients { get; }
            }
        }

        namespace Microsoft.AspNetCore.Mvc
        {
            public abstract class ControllerBase { }
            public abstract class Controller : ControllerBase { }
        }

        namespace Microsoft.AspNetCore.Mvc.RazorPages
        {
            public abstract class PageModel { }
        }
        """;
}
