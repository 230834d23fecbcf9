using System.Collections.Generic;
using System.Collections.Immutable;
using Isolation.Analyzers.Classification;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Rules;

/// <summary>
/// ISO103: a disposable session created into a local (<c>new SqliteConnection(...)</c>, <c>new AppDbContext(...)</c>,
/// <c>dataSource.OpenConnectionAsync()</c>, <c>contextFactory.CreateDbContext()</c>) that is never disposed and never
/// leaves the method. Shape-based on purpose: a local that is returned, stored, passed to another method or captured
/// may have been handed to a new owner, so the rule stays quiet about it.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UndisposedSessionAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The property the code fix reads: "await using" when the session is async-disposable in an async method.</summary>
    internal const string UsingKindProperty = "UsingKind";

    private const int MaxParentDepth = 128;

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.ISO103SessionNotDisposed, Descriptors.ISO103SessionFieldNotDisposed);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var isolation = IsolationContext.TryGet(start.Compilation, start.Options);
            if (isolation is null)
            {
                return;
            }

            start.RegisterOperationAction(c => Analyze(c, isolation), OperationKind.VariableDeclarator);
            start.RegisterSymbolAction(c => AnalyzeFields(c, isolation), SymbolKind.NamedType);
        });
    }

    /// <summary>
    /// A session the type creates into its own instance field (in a field initializer or any method) and never disposes:
    /// no <c>_field.Dispose()</c>/<c>DisposeAsync()</c>/<c>Close()</c> and no <c>using (_field)</c> anywhere in the type. A field
    /// that is passed on, returned or assigned elsewhere may have another owner, and is not reported.
    /// </summary>
    private static void AnalyzeFields(SymbolAnalysisContext context, IsolationContext isolation)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (type.TypeKind != TypeKind.Class || type.IsStatic || type.Locations.Length == 0 || !type.Locations[0].IsInSource)
        {
            return;
        }

        var types = isolation.Types;
        TypeClassifier? classifier = null;
        Dictionary<IFieldSymbol, FieldOwnership>? fields = null;
        foreach (var member in type.GetMembers())
        {
            if (member is not IFieldSymbol { IsStatic: false, IsConst: false, IsImplicitlyDeclared: false } field || field.Type.TypeKind == TypeKind.Error)
            {
                continue;
            }

            // The classification is cached per type; the disposability check (the type's interfaces) only for sessions.
            classifier ??= isolation.GetClassifier(context.Options, type.Locations[0].SourceTree);
            if (classifier.Classify(field.Type) != RequestScopedKind.Session
                || !(field.Type.IsAssignableTo(types.IDisposable) || field.Type.IsAssignableTo(types.IAsyncDisposable)))
            {
                continue;
            }

            fields ??= new Dictionary<IFieldSymbol, FieldOwnership>(SymbolEqualityComparer.Default);
            fields[field] = new FieldOwnership();
        }

        if (fields is null)
        {
            return;
        }

        // The few types with a session field walk their own code (TypeCode: no symbol-start action).
        TypeCode.ForEachOperation(context.Compilation, type, (operation, _) =>
        {
            switch (operation)
            {
                case IFieldReferenceOperation reference:
                    CollectFieldUse(reference, types, fields);
                    break;
                case IFieldInitializerOperation initializer:
                    CollectFieldInitializer(initializer, types, fields);
                    break;
            }
        }, context.CancellationToken);
        ReportFields(context, types, fields);
    }

    private static void CollectFieldInitializer(IFieldInitializerOperation initializer, KnownTypes types, Dictionary<IFieldSymbol, FieldOwnership> fields)
    {
        var created = initializer.Value.Unwrap();
        if (!IsSessionCreation(created, types))
        {
            return;
        }

        foreach (var field in initializer.InitializedFields)
        {
            if (fields.TryGetValue(field.OriginalDefinition, out var ownership))
            {
                ownership.Created = true;
            }
        }
    }

    private static void CollectFieldUse(IFieldReferenceOperation reference, KnownTypes types, Dictionary<IFieldSymbol, FieldOwnership> fields)
    {
        if (reference.Instance is not IInstanceReferenceOperation || !fields.TryGetValue(reference.Field.OriginalDefinition, out var ownership))
        {
            return;
        }

        var parent = reference.GetUnwrappedParent(out var current);
        switch (parent)
        {
            case ISimpleAssignmentOperation assignment when assignment.Target == current:
                var value = assignment.Value.Unwrap();
                if (value is IAwaitOperation awaited)
                {
                    value = awaited.Operation.Unwrap();
                }

                if (IsSessionCreation(value, types))
                {
                    ownership.Created = true;
                }

                return;
            case IInvocationOperation invocation when invocation.Instance == current:
                if (SessionMethods.IsDisposal(invocation.TargetMethod, types))
                {
                    ownership.Disposed = true;
                }

                return;
            case IConditionalAccessOperation conditional when conditional.Operation == current:
                if (conditional.WhenNotNull is IInvocationOperation whenNotNull && SessionMethods.IsDisposal(whenNotNull.TargetMethod, types))
                {
                    ownership.Disposed = true;
                }

                return;
            case IUsingOperation:
                ownership.Disposed = true;
                return;
            case IArgumentOperation argument:
                // A DbCommand built on the connection, or an extension method called on it, uses it without taking it.
                if (!(argument.Parent is IInvocationOperation { TargetMethod.IsExtensionMethod: true } call && call.Arguments.Length > 0 && call.Arguments[0] == argument)
                    && !(argument.Parent is IObjectCreationOperation creation && creation.Type.IsOrDerivesFrom(types.DbCommand)))
                {
                    ownership.Escapes = true;
                }

                return;
            case IReturnOperation:
            case ISimpleAssignmentOperation:
            case IVariableInitializerOperation:
            case ICoalesceOperation:
            case IConditionalOperation:
            case ITupleOperation:
            case IArrayInitializerOperation:
            case IPropertyInitializerOperation:
            case IFieldInitializerOperation:
                ownership.Escapes = true;
                return;
        }
    }

    private static void ReportFields(SymbolAnalysisContext context, KnownTypes types, Dictionary<IFieldSymbol, FieldOwnership> fields)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        foreach (var pair in fields)
        {
            var ownership = pair.Value;
            if (!ownership.Created || ownership.Disposed || ownership.Escapes || pair.Key.Locations.IsEmpty)
            {
                continue;
            }

            var fix = type.IsAssignableTo(types.IDisposable) || type.IsAssignableTo(types.IAsyncDisposable)
                ? "dispose it in '" + type.Name + "'s Dispose or DisposeAsync"
                : "make '" + type.Name + "' implement IDisposable or IAsyncDisposable and dispose the field there";
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.ISO103SessionFieldNotDisposed,
                pair.Key.Locations[0],
                pair.Key.Name,
                Display.Short(pair.Key.Type),
                type.Name,
                fix));
        }
    }

    private static void Analyze(OperationAnalysisContext context, IsolationContext isolation)
    {
        var declarator = (IVariableDeclaratorOperation)context.Operation;
        var initializer = declarator.GetVariableInitializer()?.Value;
        if (initializer is null || declarator.Parent is not IVariableDeclarationOperation declaration)
        {
            return;
        }

        // 'using var x = ...' and 'using (var x = ...)' are disposed on every path.
        var group = declaration.Parent is IVariableDeclarationGroupOperation g ? g.Parent : declaration.Parent;
        if (group is IUsingDeclarationOperation or IUsingOperation)
        {
            return;
        }

        var local = declarator.Symbol;
        var types = isolation.Types;
        var created = initializer.Unwrap();
        if (created is IAwaitOperation awaited)
        {
            created = awaited.Operation.Unwrap();
        }

        if (!IsSessionCreation(created, types))
        {
            return;
        }

        var sessionType = local.Type.TypeKind == TypeKind.Error ? created.Type : local.Type;
        var classifier = isolation.GetClassifier(context.Options, declarator.Syntax.SyntaxTree);
        if (sessionType is null || classifier.Classify(sessionType) != RequestScopedKind.Session
            || !(sessionType.IsAssignableTo(types.IDisposable) || sessionType.IsAssignableTo(types.IAsyncDisposable)))
        {
            return;
        }

        var body = FindBody(declarator);
        if (body is null || IsDisposedOrEscapes(body, local, types))
        {
            return;
        }

        var asyncUsing = sessionType.IsAssignableTo(types.IAsyncDisposable) && IsInAsyncCode(declarator, context.ContainingSymbol);
        var usingKind = asyncUsing ? "await using" : "using";
        var properties = ImmutableDictionary<string, string?>.Empty.Add(UsingKindProperty, usingKind);
        context.ReportDiagnostic(Diagnostic.Create(
            Descriptors.ISO103SessionNotDisposed,
            declarator.Syntax.GetLocation(),
            properties,
            local.Name,
            Display.Short(sessionType),
            usingKind));
    }

    private sealed class FieldOwnership
    {
        public bool Created { get; set; }

        public bool Disposed { get; set; }

        public bool Escapes { get; set; }
    }

    private static bool IsSessionCreation(IOperation operation, KnownTypes types)
    {
        switch (operation)
        {
            case IObjectCreationOperation:
                return true;
            case IInvocationOperation invocation:
                // Only the factory methods known to hand ownership to the caller; any other call may return a shared instance.
                return SessionMethods.IsSessionCreatorMethod(invocation.TargetMethod, types);
            default:
                return false;
        }
    }

    private static IOperation? FindBody(IOperation operation)
    {
        IOperation? body = null;
        var current = operation.Parent;
        for (var i = 0; current is not null && i < MaxParentDepth; i++, current = current.Parent)
        {
            if (current is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return current;
            }

            body = current;
        }

        return current is null ? body : null;
    }

    private static bool IsDisposedOrEscapes(IOperation body, ILocalSymbol local, KnownTypes types)
    {
        foreach (var descendant in body.Descendants())
        {
            if (descendant is not ILocalReferenceOperation reference || !SymbolEqualityComparer.Default.Equals(reference.Local, local))
            {
                continue;
            }

            if (IsDisposedOrEscapes(reference, body, types))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsDisposedOrEscapes(ILocalReferenceOperation reference, IOperation body, KnownTypes types)
    {
        IOperation current = reference;
        var parent = current.Parent;
        for (var i = 0; parent is IConversionOperation or IParenthesizedOperation && i < 8; i++)
        {
            current = parent;
            parent = current.Parent;
        }

        switch (parent)
        {
            case IInvocationOperation invocation when invocation.Instance == current:
                return SessionMethods.IsDisposal(invocation.TargetMethod, types);
            case IConditionalAccessOperation conditional when conditional.Operation == current:
                return conditional.WhenNotNull is IInvocationOperation whenNotNull && SessionMethods.IsDisposal(whenNotNull.TargetMethod, types);
            case IUsingOperation:
                return true;
            case IArgumentOperation argument:
                // An extension method receiver (Dapper's conn.QueryAsync) or a command's constructor uses the session
                // without taking ownership; any other argument may hand it to a new owner.
                if (argument.Parent is IInvocationOperation { TargetMethod.IsExtensionMethod: true } call && call.Arguments.Length > 0 && call.Arguments[0] == argument)
                {
                    return false;
                }

                return !(argument.Parent is IObjectCreationOperation creation && creation.Type.IsOrDerivesFrom(types.DbCommand));
            case IReturnOperation:
            case ISimpleAssignmentOperation assignment when assignment.Value == current:
            case IVariableInitializerOperation:
            case IFieldInitializerOperation:
            case IPropertyInitializerOperation:
            case ITupleOperation:
            case IArrayInitializerOperation:
            case IObjectOrCollectionInitializerOperation:
            case IMemberInitializerOperation:
            case IAnonymousObjectCreationOperation:
            case ICoalesceOperation:
            case IConditionalOperation:
            case ISwitchExpressionArmOperation:
                return true;
        }

        // A reference from inside a lambda or local function is a capture: the closure may outlive this method.
        for (var ancestor = parent; ancestor is not null && ancestor != body; ancestor = ancestor.Parent)
        {
            if (ancestor is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsInAsyncCode(IOperation operation, ISymbol containingSymbol)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            switch (current)
            {
                case IAnonymousFunctionOperation lambda:
                    return lambda.Symbol.IsAsync;
                case ILocalFunctionOperation local:
                    return local.Symbol.IsAsync;
            }
        }

        return containingSymbol is IMethodSymbol { IsAsync: true };
    }

}
