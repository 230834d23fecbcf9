using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.Rules;

public sealed class SingletonRegistrationAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Data.Common;
        using Isolation;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.DependencyInjection.Extensions;

        """;

    [Fact]
    public async Task Analyze_AgentRegisteredWithEverySingletonForm_ReportsISO001()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyAsync(Usings + """
            public interface ITriageAgent : IAgent { }
            public sealed class TriageAgent : ITriageAgent { }
            [RequestScoped] public sealed class Planner { }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    {|ISO001:services.AddSingleton<TriageAgent>()|};
                    {|ISO001:services.AddSingleton<ITriageAgent, TriageAgent>()|};
                    {|ISO001:services.AddSingleton(new TriageAgent())|};
                    {|ISO001:services.AddSingleton<ITriageAgent>(sp => new TriageAgent())|};
                    {|ISO001:services.AddSingleton(typeof(ITriageAgent), typeof(TriageAgent))|};
                    {|ISO001:services.AddSingleton(typeof(object), new Planner())|};
                    {|ISO001:services.AddKeyedSingleton<Planner>("k")|};
                    {|ISO001:services.TryAddSingleton<Planner>()|};
                    services.Add({|ISO001:ServiceDescriptor.Singleton<ITriageAgent, TriageAgent>()|});
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_SessionRegisteredAsSingleton_ReportsISO101()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyAsync(Usings + """
            public sealed class AppDb : Microsoft.EntityFrameworkCore.DbContext { }
            public sealed class ChatState : Microsoft.Agents.AI.AgentSession { }

            public static class Startup
            {
                public static void Configure(IServiceCollection services, DbConnection connection)
                {
                    {|ISO101:services.AddSingleton<AppDb>()|};
                    {|ISO101:services.AddSingleton(connection)|};
                    {|ISO101:services.AddSingleton<ChatState>()|};
                    {|ISO101:services.AddSingleton<Microsoft.SemanticKernel.ChatCompletion.ChatHistory>()|};
                    {|ISO101:services.AddSingleton<List<Microsoft.Extensions.AI.ChatMessage>>()|};
                    {|ISO101:services.AddSingleton<System.Data.IDbConnection>(sp => connection)|};
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_ScopedTransientAndIsolatedRegistrations_NoDiagnostic()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyAsync(Usings + """
            public sealed class TriageAgent : IAgent { }
            public sealed class AppDb : Microsoft.EntityFrameworkCore.DbContext { }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddScoped<TriageAgent>();
                    services.AddTransient<TriageAgent>();
                    services.AddScoped<AppDb>();
                    services.AddIsolatedAgent<TriageAgent>();
                    services.TryAddScoped<AppDb>();
                    services.AddKeyedScoped<TriageAgent>("k");
                    services.Add(ServiceDescriptor.Scoped<TriageAgent, TriageAgent>());
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_SharedByDesignAndLookAlikes_NoDiagnostic()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyAsync(Usings + """
            // Look-alikes: names that sound per-request, types that are not.
            public sealed class TriageAgentService { }
            public sealed class CosmosDbContext<T> { }
            public sealed class FooAgent : Microsoft.Agents.AI.AIAgent { }
            public sealed class ChatClient : Microsoft.Extensions.AI.IChatClient { public void Dispose() { } }
            public sealed class DbConnectionFactory { }

            public static class MyExtensions
            {
                // A user's own AddSingleton is not the DI container's.
                public static void AddSingleton<T>(this List<T> list) { }
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services, System.Data.Common.DbDataSource dataSource)
                {
                    services.AddSingleton<TriageAgentService>();
                    services.AddSingleton<CosmosDbContext<int>>();
                    services.AddSingleton<FooAgent>();
                    services.AddSingleton<Microsoft.Agents.AI.AIAgent>(sp => new FooAgent());
                    services.AddSingleton<Microsoft.Extensions.AI.IChatClient, ChatClient>();
                    services.AddSingleton(new System.Net.Http.HttpClient());
                    services.AddSingleton(dataSource);
                    services.AddSingleton<DbConnectionFactory>();
                    services.AddSingleton<IReadOnlyList<Microsoft.Extensions.AI.ChatMessage>>(Array.Empty<Microsoft.Extensions.AI.ChatMessage>());
                    new List<TriageAgentService>().AddSingleton();
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_TypesConfiguredInEditorConfig_ReportsWithWildcards()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyAsync(
            Usings + """
            namespace MyApp.Agents { public sealed class Researcher { } }
            namespace MyApp.Sessions { public sealed class TenantSession { } }
            namespace MyApp.Services { public sealed class Clock { } }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    {|ISO001:services.AddSingleton<MyApp.Agents.Researcher>()|};
                    {|ISO101:services.AddSingleton<MyApp.Sessions.TenantSession>()|};
                    services.AddSingleton<MyApp.Services.Clock>();
                    services.AddSingleton<System.Net.Http.HttpClient>();
                }
            }
            """,
            "isolation.agent_types = MyApp.Agents.*\nisolation.session_types = *.TenantSession\nisolation.request_scoped_types = System.Net.Http.*");
    }

    [Fact]
    public async Task Analyze_EntityFrameworkAndDescriptorSingletons_ReportsISO101AndISO001()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyAsync(Usings + """
            public sealed class AppDb : Microsoft.EntityFrameworkCore.DbContext { }
            public sealed class TriageAgent : IAgent { }

            public static class Startup
            {
                public static void Configure(IServiceCollection services, AppDb existing)
                {
                    {|ISO101:services.AddDbContext<AppDb>(o => { }, ServiceLifetime.Singleton)|};
                    {|ISO101:services.AddDbContext<AppDb>(optionsAction: o => { }, contextLifetime: ServiceLifetime.Singleton)|};
                    {|ISO101:services.AddDbContext<AppDb>(ServiceLifetime.Singleton)|};
                    services.Add({|ISO101:new ServiceDescriptor(typeof(AppDb), typeof(AppDb), ServiceLifetime.Singleton)|});
                    services.Add({|ISO101:new ServiceDescriptor(typeof(AppDb), existing)|});
                    services.Add({|ISO101:new ServiceDescriptor(typeof(AppDb), sp => new AppDb(), ServiceLifetime.Singleton)|});
                    services.Add({|ISO101:ServiceDescriptor.Describe(typeof(AppDb), typeof(AppDb), ServiceLifetime.Singleton)|});
                    services.Add({|ISO001:ServiceDescriptor.Describe(typeof(TriageAgent), typeof(TriageAgent), ServiceLifetime.Singleton)|});
                    services.Add({|ISO001:new ServiceDescriptor(typeof(TriageAgent), "key", typeof(TriageAgent), ServiceLifetime.Singleton)|});
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_EntityFrameworkScopedFactoriesPoolsAndLookAlikes_NoDiagnostic()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyAsync(Usings + """
            public sealed class AppDb : Microsoft.EntityFrameworkCore.DbContext { }
            public sealed class Cache { }

            // Look-alikes: the same names on the user's own types are not registrations.
            public static class MyRegistrations
            {
                public static IServiceCollection AddDbContext<T>(this IServiceCollection services, ServiceLifetime lifetime) => services;
                public static object Describe(Type service, Type implementation, ServiceLifetime lifetime) => service;
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services, DbConnection connection, ServiceLifetime configured)
                {
                    services.AddDbContext<AppDb>();
                    services.AddDbContext<AppDb>(o => { });
                    services.AddDbContext<AppDb>(o => { }, ServiceLifetime.Scoped, ServiceLifetime.Singleton);
                    services.AddDbContext<AppDb>(o => { }, configured);
                    services.AddDbContextFactory<AppDb>();
                    services.AddDbContextPool<AppDb>(o => { });
                    services.Add(new ServiceDescriptor(typeof(AppDb), typeof(AppDb), ServiceLifetime.Scoped));
                    services.Add(ServiceDescriptor.Describe(typeof(AppDb), typeof(AppDb), ServiceLifetime.Transient));
                    MyRegistrations.AddDbContext<AppDb>(services, ServiceLifetime.Singleton);
                    MyRegistrations.Describe(typeof(AppDb), typeof(AppDb), ServiceLifetime.Singleton);
                    // The key of a keyed registration is not the registered instance, whatever its type.
                    services.AddKeyedSingleton(serviceType: typeof(Cache), serviceKey: connection);
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_InstanceRegistration_ReportsWithInstanceProperty()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyAsync(
            Usings + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services, DbConnection connection)
                {
                    {|#0:services.AddKeyedSingleton(typeof(DbConnection), "main", connection)|};
                }
            }
            """,
            [
                Verifier<SingletonRegistrationAnalyzer>.Diagnostic(Descriptors.ISO101SessionRegisteredAsSingleton)
                    .WithArguments("System.Data.Common.DbConnection"),
            ]);
    }
}
