using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;
using Isolation.CodeFixes;

namespace Isolation.Analyzers.Tests.CodeFixes;

public sealed class AgentFactoryCodeFixTests
{
    private const string Prefix = """
        using System.Threading.Tasks;
        using Isolation;

        public sealed class TriageAgent : IAgent { public TriageAgent(string name) { } public Task RunAsync() => Task.CompletedTask; }
        public sealed class PlannerAgent : IAgent { }

        """;

    [Fact]
    public async Task Fix_NewAgentWithScopeAndFactoryInReach_ResolvesThroughThemIncludingFixAll()
    {
        await Verifier<AgentCreationAnalyzer>.VerifyFixAsync<AgentFactoryCodeFix>(
            Prefix + """
            public sealed class ChatEndpoint
            {
                private readonly IAgentFactory<TriageAgent> _triage;
                public ChatEndpoint(IAgentFactory<TriageAgent> triage) => _triage = triage;

                public async Task HandleAsync(IsolationScope scope)
                {
                    var triage = {|ISO004:new TriageAgent("triage")|};
                    PlannerAgent planner = {|ISO004:new()|};
                    var second = {|ISO004:new PlannerAgent()|};
                    await triage.RunAsync();
                }
            }
            """,
            Prefix + """
            public sealed class ChatEndpoint
            {
                private readonly IAgentFactory<TriageAgent> _triage;
                public ChatEndpoint(IAgentFactory<TriageAgent> triage) => _triage = triage;

                public async Task HandleAsync(IsolationScope scope)
                {
                    var triage = _triage.Create(scope);
                    PlannerAgent planner = scope.GetAgent<PlannerAgent>();
                    var second = scope.GetAgent<PlannerAgent>();
                    await triage.RunAsync();
                }
            }
            """);
    }

    [Fact]
    public async Task Fix_NoScopeInReach_OffersNoFix()
    {
        var source = Prefix + """
            public static class Endpoint
            {
                public static Task HandleAsync() => {|ISO004:new TriageAgent("x")|}.RunAsync();
            }
            """;
        await Verifier<AgentCreationAnalyzer>.VerifyFixAsync<AgentFactoryCodeFix>(source, source);
    }
}
