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
/// property (a connection registry) that calls <c>SendAsync</c> on each socket. It is reported where an agent type
/// broadcasts, directly or through one call to a method (or an interface method implemented by one) that broadcasts.
/// Broadcasts outside agents (a chat room, a shutdown notice) are not reported: they may be intended.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BroadcastAnalyzer : DiagnosticAnalyzer
{
    private const int MaxChainDepth = 6;

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.ISO201AgentEventBroadcast);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var isolation = IsolationContext.TryGet(start.Compilation, start.Options);
            // Reported only where an agent type broadcasts: without a type that can be one, there is nothing to find.
            if (isolation is null || (isolation.Types.IHubClientsOfT is null && isolation.Types.WebSocket is null) || !isolation.MayContainAgents(start.Options))
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
                RecordAgentCall(context, invocation, isolation, state);
                return;
        }

        if (description is not null)
        {
            RecordBroadcast(context, context.Operation, description, isolation, state);
        }
    }

    private static void AnalyzeLoop(OperationAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        if (context.Operation is not IForEachLoopOperation loop || isolation.Types.WebSocket is null)
        {
            return;
        }

        var registry = GetRegistryMember(loop.Collection);
        if (registry is null || !SendsToEachSocket(loop, isolation.Types.WebSocket))
        {
            return;
        }

        RecordBroadcast(context, loop.Collection, "a loop over every WebSocket in '" + registry.Name + "'", isolation, state);
    }

    /// <summary>The field or property the loop iterates (possibly through <c>.Values</c> or <c>.ToArray()</c>); null for a local or parameter.</summary>
    private static ISymbol? GetRegistryMember(IOperation collection)
    {
        var current = Unwrap(collection);
        for (var i = 0; i < MaxChainDepth; i++)
        {
            switch (current)
            {
                case IPropertyReferenceOperation { Property.Name: "Values", Instance: { } instance }:
                    current = Unwrap(instance);
                    continue;
                case IInvocationOperation { TargetMethod.Name: "ToArray" or "ToList", Instance: null, Arguments.Length: 1 } call:
                    current = Unwrap(call.Arguments[0].Value);
                    continue;
                case IInvocationOperation { TargetMethod.Name: "ToArray" or "ToList", Instance: { } instance, Arguments.Length: 0 }:
                    current = Unwrap(instance);
                    continue;
                case IFieldReferenceOperation field:
                    return field.Field;
                case IPropertyReferenceOperation property:
                    return property.Property;
                default:
                    return null;
            }
        }

        return null;
    }

    private static bool SendsToEachSocket(IForEachLoopOperation loop, INamedTypeSymbol webSocket)
    {
        if (loop.Locals.IsEmpty)
        {
            return false;
        }

        foreach (var operation in loop.Body.Descendants())
        {
            if (operation is IInvocationOperation { TargetMethod.Name: "SendAsync", Instance: { } instance } send
                && send.TargetMethod.ContainingType.IsOrDerivesFrom(webSocket)
                && IsRootedAt(instance, loop.Locals))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsRootedAt(IOperation operation, ImmutableArray<ILocalSymbol> locals)
    {
        var current = Unwrap(operation);
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
                    current = Unwrap(instance);
                    continue;
                default:
                    return false;
            }
        }

        return false;
    }

    private static void RecordBroadcast(OperationAnalysisContext context, IOperation site, string description, IsolationContext isolation, CompilationState state)
    {
        if (context.ContainingSymbol is IMethodSymbol method)
        {
            state.BroadcastMethods.TryAdd(method.OriginalDefinition, description);
        }

        var agent = GetContainingAgent(context.ContainingSymbol, isolation, site.Syntax.SyntaxTree, context.Options);
        if (agent is not null)
        {
            state.Reports.Add(new PendingReport(site.Syntax.GetLocation(), agent, description, target: null));
        }
    }

    private static void RecordAgentCall(OperationAnalysisContext context, IInvocationOperation invocation, IsolationContext isolation, CompilationState state)
    {
        var target = invocation.TargetMethod.OriginalDefinition;
        if (target.Locations.IsEmpty || !target.Locations[0].IsInSource)
        {
            return;
        }

        var agent = GetContainingAgent(context.ContainingSymbol, isolation, invocation.Syntax.SyntaxTree, context.Options);
        if (agent is not null)
        {
            state.Reports.Add(new PendingReport(invocation.Syntax.GetLocation(), agent, description: null, target));
        }
    }

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
            string? description = pending.Description;
            if (pending.Target is not null)
            {
                // A call from the agent to its own (or its base class's) broadcasting method is reported at the broadcast itself.
                if (!broadcasting.TryGetValue(pending.Target, out var inner) || pending.Agent.IsOrDerivesFrom(pending.Target.ContainingType))
                {
                    continue;
                }

                description = "through '" + pending.Target.ContainingType.Name + "." + pending.Target.Name + "', " + inner;
            }

            context.ReportDiagnostic(Diagnostic.Create(Descriptors.ISO201AgentEventBroadcast, pending.Location, pending.Agent.Name, description));
        }
    }

    private static IOperation Unwrap(IOperation operation)
    {
        var current = operation;
        for (var i = 0; i < 8 && current is IConversionOperation conversion; i++)
        {
            current = conversion.Operand;
        }

        return current;
    }

    private sealed class CompilationState
    {
        public ConcurrentDictionary<IMethodSymbol, string> BroadcastMethods { get; } = new(SymbolEqualityComparer.Default);

        public ConcurrentBag<PendingReport> Reports { get; } = new();
    }

    private sealed class PendingReport
    {
        public PendingReport(Location location, INamedTypeSymbol agent, string? description, IMethodSymbol? target)
        {
            Location = location;
            Agent = agent;
            Description = description;
            Target = target;
        }

        public Location Location { get; }

        public INamedTypeSymbol Agent { get; }

        public string? Description { get; }

        public IMethodSymbol? Target { get; }
    }
}
