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
    public async Task Fix_AgentAndSessionSingletons_BecomeScopedIncludingFixAll()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyFixAsync<SingletonRegistrationCodeFix>(
            Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    {|ISO001:services.AddSingleton<TriageAgent>()|};
                    {|ISO001:services.TryAddSingleton<PlannerAgent>()|};
                    {|ISO101:services.AddSingleton<AppDb>()|};
                    {|ISO101:services.AddKeyedSingleton<AppDb>("reports")|};
                    services.Add({|ISO001:ServiceDescriptor.Singleton<TriageAgent, TriageAgent>()|});
                }
            }
            """,
            Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddScoped<TriageAgent>();
                    services.TryAddScoped<PlannerAgent>();
                    services.AddScoped<AppDb>();
                    services.AddKeyedScoped<AppDb>("reports");
                    services.Add(ServiceDescriptor.Scoped<TriageAgent, TriageAgent>());
                }
            }
            """,
            codeActionIndex: 0);
    }

    [Fact]
    public async Task Fix_AgentSingleton_BecomesAddIsolatedAgentIncludingFixAll()
    {
        await Verifier<SingletonRegistrationAnalyzer>.VerifyFixAsync<SingletonRegistrationCodeFix>(
            Prefix + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    {|ISO001:services.AddSingleton<TriageAgent>()|};
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
                    services.AddIsolatedAgent<PlannerAgent>(sp => new PlannerAgent());
                }
            }
            """,
            codeActionIndex: 1);
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
