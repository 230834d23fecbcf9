using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;
using Isolation.CodeFixes;

namespace Isolation.Analyzers.Tests.CodeFixes;

public sealed class SingletonRegistrationCodeFixTests
{
    private const string Prefix = """
        using System.Data.Common;
        using Isolation;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.DependencyInjection.Extensions;

        public sealed class TriageAgent : IAgent { }
        public sealed class PlannerAgent : IAgent { }
        public sealed class AppDb : Microsoft.EntityFrameworkCore.DbContext { }

        """;

    [Fact]
    public async Task Fix_SessionSingletons_BecomeScopedIncludingFixAll()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyFixAsync<SingletonRegistrationCodeFix>(
            Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    {|ISO101:services.AddSingleton<AppDb>()|};
                    {|ISO101:services.AddKeyedSingleton<AppDb>("reports")|};
                    {|ISO101:services.TryAddSingleton<AppDb>()|};
                    services.Add({|ISO101:ServiceDescriptor.Singleton<AppDb, AppDb>()|});
                }
            }
            """,
            Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddScoped<AppDb>();
                    services.AddKeyedScoped<AppDb>("reports");
                    services.TryAddScoped<AppDb>();
                    services.Add(ServiceDescriptor.Scoped<AppDb, AppDb>());
                }
            }
            """,
            codeActionIndex: 0);
    }

    [Fact]
    public async Task Fix_AgentSingleton_FirstFixIsAddIsolatedAgentIncludingFixAll()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyFixAsync<SingletonRegistrationCodeFix>(
            Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    {|ISO001:services.AddSingleton<TriageAgent>()|};
                    {|ISO001:services.TryAddSingleton<PlannerAgent>()|};
                    {|ISO001:services.AddSingleton<PlannerAgent>(sp => new PlannerAgent())|};
                }
            }
            """,
            Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddIsolatedAgent<TriageAgent>();
                    services.AddIsolatedAgent<PlannerAgent>();
                    services.AddIsolatedAgent<PlannerAgent>(sp => new PlannerAgent());
                }
            }
            """,
            codeActionIndex: 0);
    }

    [Fact]
    public async Task Fix_AgentSingletonWithoutTheNamespaceImported_AddIsolatedAgentAddsTheUsing()
    {
        const string Agent = """
            using Isolation;
            using Microsoft.Extensions.DependencyInjection.Extensions;

            public sealed class TriageAgent : IAgent { }

            """;
        await Verifier<SingletonRegistrationAnalyzer>.VerifyFixAsync<SingletonRegistrationCodeFix>(
            Agent + """
            public static class Startup
            {
                public static void Configure(Microsoft.Extensions.DependencyInjection.IServiceCollection services)
                {
                    {|ISO001:services.TryAddSingleton<TriageAgent>()|};
                }
            }
            """,
            """
            using Isolation;
            using Microsoft.Extensions.DependencyInjection.Extensions;
            using Microsoft.Extensions.DependencyInjection;

            public sealed class TriageAgent : IAgent { }
            public static class Startup
            {
                public static void Configure(Microsoft.Extensions.DependencyInjection.IServiceCollection services)
                {
                    services.AddIsolatedAgent<TriageAgent>();
                }
            }
            """,
            codeActionIndex: 0);
    }

    [Fact]
    public async Task Fix_AgentSingleton_ScopedFixIsSecondAndNeverAppliedInBatch()
    {
        var source = Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    {|ISO001:services.AddSingleton<TriageAgent>()|};
                    {|ISO001:services.AddSingleton<PlannerAgent>()|};
                }
            }
            """;
        await Verifier<SingletonRegistrationAnalyzer>.VerifyFixNotInFixAllAsync<SingletonRegistrationCodeFix>(
            source,
            Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddScoped<TriageAgent>();
                    services.AddScoped<PlannerAgent>();
                }
            }
            """,
            codeActionIndex: 1);
    }

    [Fact]
    public async Task Fix_AgentWithServiceAndImplementationTypes_OnlyScopedFixNotInBatch()
    {
        var source = Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.Add({|ISO001:ServiceDescriptor.Singleton<TriageAgent, TriageAgent>()|});
                }
            }
            """;
        await Verifier<SingletonRegistrationAnalyzer>.VerifyFixNotInFixAllAsync<SingletonRegistrationCodeFix>(
            source,
            Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.Add(ServiceDescriptor.Scoped<TriageAgent, TriageAgent>());
                }
            }
            """,
            codeActionIndex: 0);
    }

    [Fact]
    public async Task Fix_InstanceRegistration_OffersNoFix()
    {
        var source = Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services, DbConnection connection)
                {
                    {|ISO001:services.AddSingleton(new TriageAgent())|};
                    {|ISO101:services.AddSingleton(connection)|};
                }
            }
            """;
        await Verifier<SingletonRegistrationAnalyzer>.VerifyFixAsync<SingletonRegistrationCodeFix>(source, source);
    }
}
