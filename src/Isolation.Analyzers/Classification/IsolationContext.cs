using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Isolation.Analyzers.Classification;

/// <summary>
/// Everything the rules share for one compilation: the resolved <see cref="KnownTypes"/> and one
/// <see cref="TypeClassifier"/> per configuration. Built once per compilation and shared by all analyzers.
/// </summary>
internal sealed class IsolationContext
{
    private static readonly ConditionalWeakTable<Compilation, IsolationContext> Contexts = new();

    private readonly TypeClassifier _defaultClassifier;
    private int _configuredState; // 0 unknown, 1 no configured types, 2 configured types
    private readonly ConcurrentDictionary<IsolationConfiguration, TypeClassifier> _configured = new();

    private IsolationContext(KnownTypes types)
    {
        Types = types;
        _defaultClassifier = new TypeClassifier(types, IsolationConfiguration.Default);
    }

    public KnownTypes Types { get; }

    /// <summary>
    /// The context for <paramref name="compilation"/>, or null when no rule can find anything: no marker or
    /// well-known type or handler base class is referenced and no <c>.editorconfig</c> names request-scoped types.
    /// </summary>
    public static IsolationContext? TryGet(Compilation compilation, AnalyzerOptions options)
    {
        var context = Contexts.GetValue(compilation, static c => new IsolationContext(KnownTypes.Create(c)));
        if (context.Types.HasRequestScopedMarkers || context.Types.HasHandlerTypes)
        {
            return context;
        }

        // Scanning the trees' options once per compilation, not once per analyzer.
        if (context._configuredState == 0)
        {
            context._configuredState = HasConfiguredTypes(compilation, options) ? 2 : 1;
        }

        return context._configuredState == 2 ? context : null;
    }

    /// <summary>The classifier that applies in <paramref name="tree"/> (its <c>.editorconfig</c> options).</summary>
    public TypeClassifier GetClassifier(AnalyzerOptions options, SyntaxTree? tree)
    {
        var configuration = IsolationConfiguration.For(options, tree);
        return configuration.IsDefault
            ? _defaultClassifier
            : _configured.GetOrAdd(configuration, c => new TypeClassifier(Types, c));
    }

    private static bool HasConfiguredTypes(Compilation compilation, AnalyzerOptions options)
    {
        if (!IsolationConfiguration.For(options, null).IsDefault)
        {
            return true;
        }

        foreach (var tree in compilation.SyntaxTrees)
        {
            var configuration = IsolationConfiguration.For(options, tree);
            if (!configuration.AgentTypes.IsEmpty || !configuration.SessionTypes.IsEmpty)
            {
                return true;
            }
        }

        return false;
    }
}
