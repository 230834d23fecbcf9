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

    [Fact]
    public async Task Analyze_AgentCreatedIntoCaches_ReportsISO004()
    {
        await Verifier<AgentCreationAnalyzer>.VerifyAsync("""
            using System;
            using System.Collections.Concurrent;
            using System.Collections.Generic;
            using Isolation;

            public sealed class TriageAgent : IAgent { }

            public sealed class AgentCache
            {
                private readonly ConcurrentDictionary<string, TriageAgent> _agents = new();
                private readonly ConcurrentDictionary<string, Lazy<TriageAgent>> _lazy = new();
                private readonly Dictionary<string, TriageAgent> _plain = new();
                private readonly Lazy<TriageAgent> _one = new(() => {|ISO004:new TriageAgent()|});

                // Each of these returns the agent, but from a cache: a second request gets the first one's agent.
                public TriageAgent Get(string user) => _agents.GetOrAdd(user, _ => {|ISO004:new TriageAgent()|});
                public TriageAgent GetLazy(string user) => _lazy.GetOrAdd(user, _ => new Lazy<TriageAgent>(() => {|ISO004:new TriageAgent()|})).Value;
                public TriageAgent Put(string user)
                {
                    _agents.TryAdd(user, {|ISO004:new TriageAgent()|});
                    _plain[user] = {|ISO004:new TriageAgent()|};
                    _plain.Add(user + "2", {|ISO004:new TriageAgent()|});
                    return _plain[user];
                }

                // Through a local: the registry pattern.
                public TriageAgent GetOrCreate(string user)
                {
                    if (!_plain.TryGetValue(user, out var agent))
                    {
                        agent = {|ISO004:new TriageAgent()|};
                        _plain[user] = agent;
                    }

                    var other = {|ISO004:new TriageAgent()|};
                    _agents.TryAdd(user, other);
                    return agent;
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_FactoryLambdasNotPassedToCaches_NoDiagnostic()
    {
        await Verifier<AgentCreationAnalyzer>.VerifyAsync("""
            using System;
            using System.Collections.Generic;
            using Isolation;

            public sealed class TriageAgent : IAgent { }

            // A user type with cache-like names is not a cache by symbol.
            public sealed class Memo { public T GetOrAdd<T>(string key, Func<string, T> create) => create(key); }

            public sealed class Factories
            {
                private readonly Memo _memo = new();
                public TriageAgent Create() => new TriageAgent();
                public Func<TriageAgent> Creator() => () => new TriageAgent();
                public TriageAgent ViaMemo(string user) => _memo.GetOrAdd(user, _ => new TriageAgent());
                public TriageAgent Local(Dictionary<string, TriageAgent> seen, string user)
                {
                    var agent = new TriageAgent();
                    return seen.TryGetValue(user, out var found) ? found : agent;
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_AgentNamedThroughAliasQualifiedDerivedNestedOrGeneric_ReportsISO004()
    {
        // The syntax pre-filter matches the last name of 'new'; aliases, qualified names, derived agents, nested and
        // generic agents must all still reach the semantic check.
        await Verifier<AgentCreationAnalyzer>.VerifyAsync("""
            using System.Threading.Tasks;
            using Isolation;
            using Bot = Demo.TriageAgent;

            namespace Demo
            {
                public class TriageAgent : IAgent { }
                public sealed class SpecialistAgent : TriageAgent { }
                public sealed class Pipeline<T> : IAgent { }
                public static class Outer { public sealed class Inner : IAgent { } }

                public sealed class ChatEndpoint
                {
                    public void Handle()
                    {
                        object a = {|ISO004:new Bot()|};
                        object b = {|ISO004:new Demo.TriageAgent()|};
                        object c = {|ISO004:new global::Demo.TriageAgent()|};
                        object d = {|ISO004:new SpecialistAgent()|};
                        object e = {|ISO004:new Pipeline<int>()|};
                        object f = {|ISO004:new Outer.Inner()|};
                    }
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_NonAgentWithAnAgentsNameAndOrdinaryTypes_NoDiagnostic()
    {
        // Same simple name as an agent, another type: the pre-filter lets it through, the semantic check is silent.
        await Verifier<AgentCreationAnalyzer>.VerifyAsync("""
            using System.Collections.Generic;
            using System.Text;
            using Isolation;

            namespace Demo { public sealed class TriageAgent : IAgent { } }
            namespace Reports { public sealed class TriageAgent { } }

            public sealed class ChatEndpoint
            {
                public void Handle()
                {
                    var report = new Reports.TriageAgent();
                    var list = new List<string>();
                    var text = new StringBuilder();
                    var value = new object();
                    int[] numbers = new int[3];
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_AgentTypesConfiguredInEditorConfig_ReportsEveryMatchingName()
    {
        // With configured patterns any name can be an agent: the pre-filter steps aside.
        await Verifier<AgentCreationAnalyzer>.VerifyAsync("""
            using Isolation;

            namespace MyApp.Bots { public sealed class HelpdeskBot { } }
            namespace MyApp.Services { public sealed class Clock { } }
            public sealed class Marker : IAgent { }

            public sealed class ChatEndpoint
            {
                public void Handle()
                {
                    var bot = {|ISO004:new MyApp.Bots.HelpdeskBot()|};
                    var clock = new MyApp.Services.Clock();
                }
            }
            """,
            "isolation.agent_types = MyApp.Bots.*");
    }
}
