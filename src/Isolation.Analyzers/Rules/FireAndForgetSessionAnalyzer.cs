using System.Collections.Immutable;
using Isolation.Analyzers.Classification;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Rules;

/// <summary>
/// ISO104: a request's session used by work that outlives the request: captured by the delegate of a discarded
/// <c>Task.Run</c>/<c>Task.Factory.StartNew</c> or of <c>ThreadPool.QueueUserWorkItem</c>, or passed to (or the receiver
/// of) a task-returning call whose task is discarded (<c>_ = SaveAsync(db)</c>). An awaited or stored task is not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class FireAndForgetSessionAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.ISO104SessionCapturedByFireAndForget);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var isolation = IsolationContext.TryGet(start.Compilation, start.Options);
            if (isolation is null || isolation.Types.Task is null)
            {
                return;
            }

            start.RegisterOperationAction(c => Analyze(c, isolation), OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, IsolationContext isolation)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var types = isolation.Types;
        var method = invocation.TargetMethod;
        var containing = method.ContainingType?.OriginalDefinition;

        string? work;
        var delegatesOnly = true;
        if (method.Name is "QueueUserWorkItem" or "UnsafeQueueUserWorkItem" && containing.IsSame(types.ThreadPool))
        {
            work = "ThreadPool." + method.Name;
        }
        else if (!IsDiscarded(invocation))
        {
            return;
        }
        else if ((method.Name == "Run" && containing.IsSame(types.Task)) || (method.Name == "StartNew" && containing.IsSame(types.TaskFactory)))
        {
            work = (method.Name == "Run" ? "Task.Run" : "Task.Factory.StartNew") + " without await";
        }
        else if (method.ReturnType.IsOrDerivesFrom(types.Task) || method.ReturnType.OriginalDefinition.IsSame(types.ValueTaskOfT) || method.ReturnType.IsSame(types.ValueTask))
        {
            work = "a task that is not awaited";
            delegatesOnly = false;
        }
        else
        {
            return;
        }

        var classifier = isolation.GetClassifier(context.Options, invocation.Syntax.SyntaxTree);
        if (!delegatesOnly && invocation.Instance is { } instance && FindSession(instance.Unwrap(), classifier) is { } receiver)
        {
            Report(context, invocation, receiver, work);
            return;
        }

        foreach (var argument in invocation.Arguments)
        {
            var value = argument.Value.Unwrap();
            IOperation? found = value switch
            {
                IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda } => FindCapturedSession(lambda, classifier),
                IAnonymousFunctionOperation lambda => FindCapturedSession(lambda, classifier),
                _ => delegatesOnly ? null : FindSession(value, classifier),
            };

            if (found is not null)
            {
                Report(context, invocation, found, work);
                return;
            }
        }
    }

    /// <summary>Reported on the fire-and-forget call itself (the discarded <c>Task.Run(...)</c>): that is what to change.</summary>
    private static void Report(OperationAnalysisContext context, IInvocationOperation invocation, IOperation reference, string work)
    {
        var (name, type) = reference switch
        {
            ILocalReferenceOperation local => (local.Local.Name, local.Local.Type),
            IParameterReferenceOperation parameter => (parameter.Parameter.Name, parameter.Parameter.Type),
            IMemberReferenceOperation member => (member.Member.Name, reference.Type),
            _ => (reference.Syntax.ToString(), reference.Type),
        };

        context.ReportDiagnostic(Diagnostic.Create(
            Descriptors.ISO104SessionCapturedByFireAndForget,
            invocation.Syntax.GetLocation(),
            name,
            Display.Short(type),
            work));
    }

    /// <summary>The invocation's task is thrown away: an expression statement, or assigned to the discard '_'.</summary>
    private static bool IsDiscarded(IInvocationOperation invocation)
    {
        var parent = invocation.Parent;
        for (var i = 0; parent is IConversionOperation && i < 8; i++)
        {
            parent = parent.Parent;
        }

        return parent switch
        {
            IExpressionStatementOperation => true,
            ISimpleAssignmentOperation { Target: IDiscardOperation, Parent: IExpressionStatementOperation } => true,
            _ => false,
        };
    }

    private static IOperation? FindSession(IOperation value, TypeClassifier classifier)
    {
        var isReference = value is ILocalReferenceOperation or IParameterReferenceOperation
            || value is IFieldReferenceOperation { Instance: IInstanceReferenceOperation } or IPropertyReferenceOperation { Instance: IInstanceReferenceOperation };
        return isReference && classifier.Classify(value.Type) == RequestScopedKind.Session ? value : null;
    }

    /// <summary>A reference inside the delegate to a session that lives outside it: an outer local or parameter, or a field of 'this'.</summary>
    private static IOperation? FindCapturedSession(IAnonymousFunctionOperation lambda, TypeClassifier classifier)
    {
        var span = lambda.Syntax.Span;
        foreach (var operation in lambda.Body.Descendants())
        {
            var captured = operation switch
            {
                ILocalReferenceOperation local => !DeclaredWithin(local.Local, span),
                IParameterReferenceOperation parameter => !DeclaredWithin(parameter.Parameter, span),
                IFieldReferenceOperation { Instance: IInstanceReferenceOperation } => true,
                IPropertyReferenceOperation { Instance: IInstanceReferenceOperation } => true,
                _ => false,
            };

            if (captured && classifier.Classify(operation.Type) == RequestScopedKind.Session)
            {
                return operation;
            }
        }

        return null;
    }

    private static bool DeclaredWithin(ISymbol symbol, Microsoft.CodeAnalysis.Text.TextSpan span)
    {
        foreach (var location in symbol.Locations)
        {
            if (location.IsInSource && span.Contains(location.SourceSpan))
            {
                return true;
            }
        }

        return false;
    }

}
