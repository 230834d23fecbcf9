using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.Rules;

public sealed class AgentCreationAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Threading.Tasks;
        using Isolation;
        using Microsoft.Extensions.DependencyInjection;

        """;

    [Fact]
    public async Task Analyze_AgentCreatedWithNewInHandlerCode_ReportsISO004()
    {
        await Verifier<AgentCreationAnalyzer>.VerifyAsync(Usings + """
            public sealed class TriageAgent : IAgent { public TriageAgent(string name) { } public Task RunAsync() => Task.CompletedTask; }
            [RequestScoped] public sealed class Planner { }

            public sealed class ChatEndpoint
            {
                private readonly Planner _planner = {|ISO004:new Planner()|};

                public async Task HandleAsync(string message)
                {
                    var agent = {|ISO004:new TriageAgent("triage")|};
                    await agent.RunAsync();
                    Planner p = {|ISO004:new()|};
                    await Task.Run(() => {|ISO004:new TriageAgent("bg")|}.RunAsync());
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_CreationInFactoriesAndDi_NoDiagnostic()
    {
        await Verifier<AgentCreationAnalyzer>.VerifyAsync(Usings + """
            public sealed class TriageAgent : IAgent
            {
                public TriageAgent(string name) { }
                public TriageAgent Clone() => new TriageAgent("copy");
                public static TriageAgent Create() => new("static");
            }

            public sealed class TriageAgentFactory : IAgentFactory<TriageAgent>
            {
                public TriageAgent Create(IsolationScope scope) => new TriageAgent("factory");
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddIsolatedAgent(sp => new TriageAgent("di"));
                    services.AddScoped<TriageAgent>(sp => new TriageAgent("scoped"));
                }

                public static IAgent Build() => new TriageAgent("factory method");

                public static Task<TriageAgent> BuildAsync() => Task.FromResult(new TriageAgent("async factory"));

                public static object Other()
                {
                    Func<TriageAgent> make = () => new TriageAgent("lambda factory");
                    TriageAgent Local() => new TriageAgent("local factory");
                    return make() ?? Local();
                }

                // Not agents: a shared-by-design agent and a look-alike name.
                public static object Shared() => new System.Net.Http.HttpClient();
                public static object LookAlike() => new TriageAgentOptions();
            }

            public sealed class TriageAgentOptions { }
            """);
    }
}
