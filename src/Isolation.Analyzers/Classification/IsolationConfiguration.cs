using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Isolation.Analyzers.Classification;

/// <summary>The <c>.editorconfig</c> options of the rules, read once per distinct options object.</summary>
internal sealed class IsolationConfiguration
{
    public const string RequestScopedTypesKey = "isolation.request_scoped_types";
    public const string AgentTypesKey = "isolation.agent_types";
    public const string SessionTypesKey = "isolation.session_types";
    public const string SingletonTypesKey = "isolation.singleton_types";

    public static readonly IsolationConfiguration Default = new(TypeNamePatterns.Empty, TypeNamePatterns.Empty, TypeNamePatterns.Empty);

    // Trees in the same .editorconfig section share one options object, so this holds a handful of entries.
    private static readonly ConditionalWeakTable<AnalyzerConfigOptions, IsolationConfiguration> Cache = new();

    private IsolationConfiguration(TypeNamePatterns agentTypes, TypeNamePatterns sessionTypes, TypeNamePatterns singletonTypes)
    {
        AgentTypes = agentTypes;
        SessionTypes = sessionTypes;
        SingletonTypes = singletonTypes;
    }

    /// <summary>Types configured as agents (<c>isolation.agent_types</c> and <c>isolation.request_scoped_types</c>).</summary>
    public TypeNamePatterns AgentTypes { get; }

    /// <summary>Types configured as sessions (<c>isolation.session_types</c>).</summary>
    public TypeNamePatterns SessionTypes { get; }

    /// <summary>Types configured as singleton-lifetime (<c>isolation.singleton_types</c>).</summary>
    public TypeNamePatterns SingletonTypes { get; }

    public bool IsDefault => AgentTypes.IsEmpty && SessionTypes.IsEmpty && SingletonTypes.IsEmpty;

    /// <summary>The configuration that applies to <paramref name="tree"/> (its <c>.editorconfig</c> section, else global options).</summary>
    public static IsolationConfiguration For(AnalyzerOptions options, SyntaxTree? tree)
    {
        var provider = options.AnalyzerConfigOptionsProvider;
        var configOptions = tree is null ? provider.GlobalOptions : provider.GetOptions(tree);
        return Cache.GetValue(configOptions, static o => Read(o));
    }

    private static IsolationConfiguration Read(AnalyzerConfigOptions options)
    {
        options.TryGetValue(AgentTypesKey, out var agents);
        options.TryGetValue(RequestScopedTypesKey, out var requestScoped);
        options.TryGetValue(SessionTypesKey, out var sessions);
        options.TryGetValue(SingletonTypesKey, out var singletons);
        if (agents is null && requestScoped is null && sessions is null && singletons is null)
        {
            return Default;
        }

        var agentList = agents is null ? requestScoped : requestScoped is null ? agents : agents + "," + requestScoped;
        return new IsolationConfiguration(TypeNamePatterns.Parse(agentList), TypeNamePatterns.Parse(sessions), TypeNamePatterns.Parse(singletons));
    }
}
