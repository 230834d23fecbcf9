using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading;
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

    private readonly Compilation _compilation;
    private readonly ConditionalWeakTable<AnalyzerOptions, OptionsScan> _scans = new();
    private OptionsScan? _scan;

    private IsolationContext(Compilation compilation, KnownTypes types)
    {
        _compilation = compilation;
        Types = types;
        _defaultClassifier = new TypeClassifier(types, IsolationConfiguration.Default);
        Payloads = new ConversationPayloads(types);
    }

    public KnownTypes Types { get; }

    /// <summary>Conversation messages (what ISO201 must not broadcast or push to every subscriber), classified once per type.</summary>
    public ConversationPayloads Payloads { get; }

    /// <summary>
    /// The context for <paramref name="compilation"/>, or null when no rule can find anything: no marker or
    /// well-known type or handler base class is referenced and no <c>.editorconfig</c> names request-scoped types.
    /// </summary>
    public static IsolationContext? TryGet(Compilation compilation, AnalyzerOptions options)
    {
        var context = Contexts.GetValue(compilation, static c => new IsolationContext(c, KnownTypes.Create(c)));
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

    /// <summary>
    /// The context for the shared-state rules (ISO003, ISO006, ISO007), which also look at code with no agent or session in
    /// sight: available when <see cref="TryGet"/> is, or when dependency injection, hosting or ASP.NET Core is referenced
    /// (something can have singleton lifetime), or an <c>.editorconfig</c> names singleton types. Null otherwise.
    /// </summary>
    public static IsolationContext? TryGetForSharedState(Compilation compilation, AnalyzerOptions options)
    {
        var context = TryGet(compilation, options);
        if (context is not null)
        {
            return context;
        }

        context = Contexts.GetValue(compilation, static c => new IsolationContext(c, KnownTypes.Create(c)));
        var types = context.Types;
        if (types.ServiceCollectionServiceExtensions is not null || types.ServiceCollectionDescriptorExtensions is not null
            || types.ServiceDescriptor is not null || types.IHostedService is not null || types.RequestDelegate is not null)
        {
            return context;
        }

        return context.GetScan(options).AllDefault ? null : context;
    }

    /// <summary>The classifier that applies in <paramref name="tree"/> (its <c>.editorconfig</c> options).</summary>
    public TypeClassifier GetClassifier(AnalyzerOptions options, SyntaxTree? tree)
    {
        // Most compilations configure nothing: then every tree gets the default classifier without an options lookup.
        if (GetScan(options).AllDefault)
        {
            return _defaultClassifier;
        }

        var configuration = IsolationConfiguration.For(options, tree);
        return configuration.IsDefault
            ? _defaultClassifier
            : _configured.GetOrAdd(configuration, c => new TypeClassifier(Types, c));
    }

    /// <summary>
    /// False when no type in the compilation can be an agent: neither <c>IAgent</c> nor <c>[RequestScoped]</c> is
    /// referenced and no <c>.editorconfig</c> names agent types. Rules that only look at agents register nothing then.
    /// </summary>
    public bool MayContainAgents(AnalyzerOptions options)
        => Types.IAgent is not null || Types.RequestScopedAttribute is not null || GetScan(options).AnyAgentTypes;

    private OptionsScan GetScan(AnalyzerOptions options)
    {
        // One scan of the trees' options per compilation and options object (one in a real build). The last one is
        // checked first; the table keeps hosts that alternate options objects from rescanning; a race only computes
        // the same answer twice.
        var scan = Volatile.Read(ref _scan);
        if (scan is null || !ReferenceEquals(scan.Options, options))
        {
            scan = _scans.GetValue(options, o => OptionsScan.Create(_compilation, o));
            Volatile.Write(ref _scan, scan);
        }

        return scan;
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

    private sealed class OptionsScan
    {
        private OptionsScan(AnalyzerOptions options, bool allDefault, bool anyAgentTypes)
        {
            Options = options;
            AllDefault = allDefault;
            AnyAgentTypes = anyAgentTypes;
        }

        public AnalyzerOptions Options { get; }

        /// <summary>True when neither the global options nor any tree's options configure a rule.</summary>
        public bool AllDefault { get; }

        /// <summary>True when the global options or some tree's options name agent types.</summary>
        public bool AnyAgentTypes { get; }

        public static OptionsScan Create(Compilation compilation, AnalyzerOptions options)
        {
            var global = IsolationConfiguration.For(options, null);
            var allDefault = global.IsDefault;
            var anyAgentTypes = !global.AgentTypes.IsEmpty;
            foreach (var tree in compilation.SyntaxTrees)
            {
                var configuration = IsolationConfiguration.For(options, tree);
                allDefault &= configuration.IsDefault;
                anyAgentTypes |= !configuration.AgentTypes.IsEmpty;
            }

            return new OptionsScan(options, allDefault, anyAgentTypes);
        }
    }
}
