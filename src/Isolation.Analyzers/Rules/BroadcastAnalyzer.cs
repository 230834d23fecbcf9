using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using Isolation.Analyzers.Classification;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Rules;

/// <summary>
/// ISO201: an agent event sent to every connection. A broadcast is a SignalR send to <c>Clients.All</c>,
/// <c>Clients.Others</c> or <c>Clients.AllExcept(...)</c>, or a <c>foreach</c> over a WebSocket collection held in a field or
/// property (a connection registry) that calls <c>SendAsync</c> on each socket. It is an agent event when an agent type
/// broadcasts, or when the data sent is an agent's output (a chat response or streaming update, an agent run update, an
/// <c>EventEnvelope</c>). Reported live at the broadcast when that is visible there; reported at compilation end at a call
/// to a method (or an interface method implemented by one) that broadcasts, made from an agent or with an agent's output.
/// Broadcasts of anything else (a chat room, a shutdown notice) are not reported: they may be intended.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BroadcastAnalyzer : DiagnosticAnalyzer
{
    private const int MaxChainDepth = 6;
    private const int MaxArgumentNodes = 32;
    private const int MaxParentDepth = 8;

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.ISO201AgentEventBroadcast, Descriptors.ISO201AgentEventBroadcastThroughCall);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var isolation = IsolationContext.TryGet(start.Compilation, start.Options);
            // Reported only where an agent broadcasts or an agent's output is broadcast: without either there is nothing to find.
            if (isolation is null || (isolation.Types.IHubClientsOfT is null && isolation.Types.WebSocket is null)
                || (!isolation.MayContainAgents(start.Options) && !isolation.Payloads.Any))
            {
                return;
            }

            var state = new CompilationState();
            start.RegisterOperationAction(c => AnalyzeHubClients(c, isolation, state), OperationKind.PropertyReference, OperationKind.Invocation);
            start.RegisterOperationAction(c => AnalyzeLoop(c, isolation, state), OperationKind.Loop);
            start.RegisterCompilationEndAction(c => Report(c, state));
        });
    }

    private static void AnalyzeHubClients(OperationAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        var types = isolation.Types;
        string? description = null;
        switch (context.Operation)
        {
            case IPropertyReferenceOperation { Property: { Name: "All" or "Others" } property }
                when property.ContainingType.IsOrImplements(types.IHubClientsOfT):
                description = "SignalR Clients." + property.Name;
                break;
            case IInvocationOperation { TargetMethod: { Name: "AllExcept" } method } when method.ContainingType.IsOrImplements(types.IHubClientsOfT):
                description = "SignalR Clients.AllExcept";
                break;
            case IInvocationOperation invocation:
                RecordCall(context, invocation, isolation, state);
                return;
        }

        if (description is not null)
        {
            RecordBroadcast(context, context.Operation, FindEnclosingSend(context.Operation), description, isolation, state);
        }
    }

    private static void AnalyzeLoop(OperationAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        if (context.Operation is not IForEachLoopOperation loop || isolation.Types.WebSocket is null)
        {
            return;
        }

        var registry = GetRegistryMember(loop.Collection, isolation.Types);
        if (registry is null || FindSendToEachSocket(loop, isolation.Types.WebSocket) is not { } send)
        {
            return;
        }

        RecordBroadcast(context, loop.Collection, send, "a loop over every WebSocket in '" + registry.Name + "'", isolation, state);
    }

    /// <summary>
    /// The field or property the loop iterates (possibly through a dictionary's <c>Values</c>, <c>Enumerable.ToArray/ToList</c>
    /// or a collection's own <c>ToArray()</c>); null for a local or parameter.
    /// </summary>
    private static ISymbol? GetRegistryMember(IOperation collection, KnownTypes types)
    {
        var current = collection.Unwrap();
        for (var i = 0; i < MaxChainDepth; i++)
        {
            switch (current)
            {
                case IPropertyReferenceOperation { Property: { Name: "Values" } values, Instance: { } instance } when IsDictionary(values.ContainingType, types):
                    current = instance.Unwrap();
                    continue;
                case IInvocationOperation { TargetMethod: { Name: "ToArray" or "ToList" } method, Instance: null, Arguments.Length: 1 } call
                    when method.ContainingType.IsSame(types.Enumerable):
                    current = call.Arguments[0].Value.Unwrap();
                    continue;
                case IInvocationOperation { TargetMethod: { Name: "ToArray" or "ToList" } method, Instance: { } instance, Arguments.Length: 0 }
                    when method.ContainingType.IsOrImplements(types.IEnumerableOfT):
                    current = instance.Unwrap();
                    continue;
                case IFieldReferenceOperation field:
                    return field.Field;
                case IPropertyReferenceOperation { Property.IsIndexer: false } property:
                    return property.Property;
                default:
                    return null;
            }
        }

        return null;
    }

    private static bool IsDictionary(INamedTypeSymbol? type, KnownTypes types)
        => type is not null && (type.IsOrImplements(types.IDictionaryOfT) || type.IsOrImplements(types.IReadOnlyDictionaryOfT) || type.IsOrDerivesFrom(types.ConcurrentDictionary));

    private static IInvocationOperation? FindSendToEachSocket(IForEachLoopOperation loop, INamedTypeSymbol webSocket)
    {
        if (loop.Locals.IsEmpty)
        {
            return null;
        }

        foreach (var operation in loop.Body.Descendants())
        {
            if (operation is IInvocationOperation { TargetMethod.Name: "SendAsync", Instance: { } instance } send
                && send.TargetMethod.ContainingType.IsOrDerivesFrom(webSocket)
                && IsRootedAt(instance, loop.Locals))
            {
                return send;
            }
        }

        return null;
    }

    private static bool IsRootedAt(IOperation operation, ImmutableArray<ILocalSymbol> locals)
    {
        var current = operation.Unwrap();
        for (var i = 0; i < MaxChainDepth; i++)
        {
            switch (current)
            {
                case ILocalReferenceOperation local:
                    foreach (var candidate in locals)
                    {
                        if (SymbolEqualityComparer.Default.Equals(candidate, local.Local))
                        {
                            return true;
                        }
                    }

                    return false;
                case IMemberReferenceOperation { Instance: { } instance }:
                    current = instance.Unwrap();
                    continue;
                default:
                    return false;
            }
        }

        return false;
    }

    /// <summary>The SignalR send a <c>Clients.All</c> reference is the target of (<c>Clients.All.SendAsync(...)</c>).</summary>
    private static IInvocationOperation? FindEnclosingSend(IOperation site)
    {
        var current = site.Parent;
        for (var i = 0; current is not null && i < MaxParentDepth; i++, current = current.Parent)
        {
            switch (current)
            {
                case IInvocationOperation invocation:
                    return invocation;
                case IConversionOperation or IArgumentOperation or IParenthesizedOperation:
                    continue;
                default:
                    return null;
            }
        }

        return null;
    }

    private static void RecordBroadcast(OperationAnalysisContext context, IOperation site, IInvocationOperation? send, string description, IsolationContext isolation, CompilationState state)
    {
        if (context.ContainingSymbol is IMethodSymbol method)
        {
            state.BroadcastMethods.TryAdd(method.OriginalDefinition, description);
        }

        var agent = GetContainingAgent(context.ContainingSymbol, isolation, site.Syntax.SyntaxTree, context.Options);
        if (agent is not null)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.ISO201AgentEventBroadcast, site.Syntax.GetLocation(), "Agent type '" + agent.Name + "'", description));
            return;
        }

        if (send is not null && FindAgentOutput(send.Arguments, isolation) is { } output)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.ISO201AgentEventBroadcast,
                site.Syntax.GetLocation(),
                "'" + GetContainingTypeName(context.ContainingSymbol) + "'",
                description + ", with an agent's " + Display.Short(output)));
        }
    }

    private static void RecordCall(OperationAnalysisContext context, IInvocationOperation invocation, IsolationContext isolation, CompilationState state)
    {
        var target = invocation.TargetMethod.OriginalDefinition;
        if (target.Locations.IsEmpty || !target.Locations[0].IsInSource)
        {
            return;
        }

        var agent = GetContainingAgent(context.ContainingSymbol, isolation, invocation.Syntax.SyntaxTree, context.Options);
        if (agent is not null)
        {
            state.Reports.Add(new PendingReport(invocation.Syntax.GetLocation(), agent, "Agent type '" + agent.Name + "'", target, output: null));
            return;
        }

        if (FindAgentOutput(invocation.Arguments, isolation) is { } output)
        {
            state.Reports.Add(new PendingReport(invocation.Syntax.GetLocation(), agent: null, "'" + GetContainingTypeName(context.ContainingSymbol) + "'", target, output));
        }
    }

    /// <summary>
    /// The agent output or conversation message type an argument carries (<c>update</c>, <c>update.Text</c>,
    /// <c>Serialize(response)</c>, a message type with a <c>ChatRole</c>), or null.
    /// </summary>
    private static ITypeSymbol? FindAgentOutput(ImmutableArray<IArgumentOperation> arguments, IsolationContext isolation)
    {
        var payloads = isolation.Payloads;
        if (!payloads.Any)
        {
            return null;
        }

        var outputs = isolation.Types.AgentOutputs;

        var visited = 0;
        foreach (var argument in arguments)
        {
            foreach (var operation in argument.Value.DescendantsAndSelf())
            {
                if (++visited > MaxArgumentNodes)
                {
                    return null;
                }

                if (operation.Type is INamedTypeSymbol type && type.TypeKind != TypeKind.Error)
                {
                    foreach (var output in outputs)
                    {
                        if (type.IsOrDerivesFrom(output))
                        {
                            return type;
                        }
                    }

                    if (payloads.IsConversationMessage(type))
                    {
                        return type;
                    }
                }
            }
        }

        return null;
    }

    private static string GetContainingTypeName(ISymbol containing) => (containing as INamedTypeSymbol ?? containing.ContainingType)?.Name ?? containing.Name;

    private static INamedTypeSymbol? GetContainingAgent(ISymbol containing, IsolationContext isolation, SyntaxTree tree, AnalyzerOptions options)
    {
        var type = containing as INamedTypeSymbol ?? containing.ContainingType;
        if (type is null)
        {
            return null;
        }

        return isolation.GetClassifier(options, tree).Classify(type) == RequestScopedKind.Agent ? type : null;
    }

    private static void Report(CompilationAnalysisContext context, CompilationState state)
    {
        if (state.Reports.IsEmpty || state.BroadcastMethods.IsEmpty)
        {
            return;
        }

        // Interface members implemented by a broadcasting method broadcast too (one level of dispatch).
        var broadcasting = new Dictionary<IMethodSymbol, string>(SymbolEqualityComparer.Default);
        foreach (var pair in state.BroadcastMethods)
        {
            broadcasting[pair.Key] = pair.Value;
            var type = pair.Key.ContainingType;
            foreach (var implemented in type.AllInterfaces)
            {
                foreach (var member in implemented.GetMembers(pair.Key.Name))
                {
                    if (member is IMethodSymbol interfaceMethod
                        && SymbolEqualityComparer.Default.Equals(type.FindImplementationForInterfaceMember(interfaceMethod)?.OriginalDefinition, pair.Key))
                    {
                        broadcasting[interfaceMethod.OriginalDefinition] = pair.Value;
                    }
                }
            }
        }

        foreach (var pending in state.Reports)
        {
            // A call from the agent to its own (or its base class's) broadcasting method is reported at the broadcast itself.
            if (!broadcasting.TryGetValue(pending.Target, out var inner)
                || (pending.Agent is not null && pending.Agent.IsOrDerivesFrom(pending.Target.ContainingType)))
            {
                continue;
            }

            var description = "through '" + pending.Target.ContainingType.Name + "." + pending.Target.Name + "', " + inner;
            if (pending.Output is not null)
            {
                description += ", with an agent's " + Display.Short(pending.Output);
            }

            context.ReportDiagnostic(Diagnostic.Create(Descriptors.ISO201AgentEventBroadcastThroughCall, pending.Location, pending.Sender, description));
        }
    }

    private sealed class CompilationState
    {
        public ConcurrentDictionary<IMethodSymbol, string> BroadcastMethods { get; } = new(SymbolEqualityComparer.Default);

        public ConcurrentBag<PendingReport> Reports { get; } = new();
    }

    private sealed class PendingReport
    {
        public PendingReport(Location location, INamedTypeSymbol? agent, string sender, IMethodSymbol target, ITypeSymbol? output)
        {
            Location = location;
            Agent = agent;
            Sender = sender;
            Target = target;
            Output = output;
        }

        public Location Location { get; }

        /// <summary>The agent type making the call, or null when the call carries an agent's output.</summary>
        public INamedTypeSymbol? Agent { get; }

        /// <summary>How the message names the sender: "Agent type 'TriageAgent'" or "'ChatHub'".</summary>
        public string Sender { get; }

        public IMethodSymbol Target { get; }

        public ITypeSymbol? Output { get; }
    }
}
