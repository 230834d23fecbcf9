using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Classification;

/// <summary>What an operation does to a member of the type it is in: mutates a collection the member holds, or assigns the member.</summary>
internal enum WriteKind
{
    None = 0,
    CollectionMutation = 1,
    Assignment = 2,
}

/// <summary>
/// The shape checks of the shared-state rules (ISO006, ISO007): which members of a singleton can be shared mutable
/// state, which operations write them, and which writes are protected (a lock, a semaphore, <c>Interlocked</c>, an options
/// change callback). Everything is decided by symbol: the collection methods are those of the framework's collection types.
/// </summary>
internal static class SharedStateWrites
{
    private const int MaxParentDepth = 64;
    private const int MaxRootDepth = 4;

    private static readonly string[] Concurrent = { "Concurrent", "Collections", "System" };
    private static readonly string[] Immutable = { "Immutable", "Collections", "System" };
    private static readonly string[] Frozen = { "Frozen", "Collections", "System" };
    private static readonly string[] Generic = { "Generic", "Collections", "System" };
    private static readonly string[] ObjectModel = { "ObjectModel", "Collections", "System" };
    private static readonly string[] Collections = { "Collections", "System" };

    /// <summary>A mutable collection that is not thread-safe by itself (not from System.Collections.Concurrent).</summary>
    public static bool IsUnsynchronizedCollection(ITypeSymbol type, TypeClassifier classifier)
    {
        if (classifier.IsMutableCollection(type))
        {
            return !IsNamespace(type.ContainingNamespace, Concurrent);
        }

        foreach (var other in classifier.Types.OtherMutableCollections)
        {
            if (type.IsOrDerivesFrom(other))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A member type whose reassignment is not shared mutable state by design: concurrent, immutable or frozen collections,
    /// <c>Lazy&lt;T&gt;</c>, options accessors, locks and semaphores.
    /// </summary>
    public static bool IsSafeByDesign(ITypeSymbol type, KnownTypes types)
    {
        var ns = type.ContainingNamespace;
        if (IsNamespace(ns, Concurrent) || IsNamespace(ns, Immutable) || IsNamespace(ns, Frozen))
        {
            return true;
        }

        if (type.IsOrDerivesFrom(types.LazyOfT))
        {
            return true;
        }

        foreach (var options in types.OptionsTypes)
        {
            if (type.IsOrImplements(options))
            {
                return true;
            }
        }

        foreach (var synchronization in types.SynchronizationTypes)
        {
            if (type.IsOrDerivesFrom(synchronization))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The member of 'this' the operation writes and how, or null.</summary>
    public static ISymbol? GetWrittenMember(IOperation operation, KnownTypes types, out WriteKind kind)
    {
        kind = WriteKind.None;
        switch (operation)
        {
            case IAssignmentOperation assignment:
                return GetAssignedMember(assignment.Target, out kind);
            case IIncrementOrDecrementOperation increment:
                return GetAssignedMember(increment.Target, out kind);
            case IInvocationOperation invocation when IsCollectionMutator(invocation.TargetMethod):
                var receiver = invocation.Instance ?? (invocation.TargetMethod.IsExtensionMethod && invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null);
                if (receiver is not null && GetRootMember(receiver) is { } member)
                {
                    kind = WriteKind.CollectionMutation;
                    return member;
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>A member of 'this' passed by reference to <c>Interlocked</c> or <c>Volatile</c>: the author synchronises it deliberately.</summary>
    public static ISymbol? GetInterlockedMember(IInvocationOperation invocation, KnownTypes types)
    {
        var containing = invocation.TargetMethod.ContainingType;
        if (containing is null || !(containing.IsSame(types.Interlocked) || containing.IsSame(types.Volatile)))
        {
            return null;
        }

        foreach (var argument in invocation.Arguments)
        {
            if (argument.Parameter is { RefKind: RefKind.Ref or RefKind.Out or RefKind.In } && GetMemberOfThis(argument.Value.Unwrap()) is { } member)
            {
                return member;
            }
        }

        return null;
    }

    /// <summary>
    /// True when the write is protected: inside a <c>lock</c>, after a wait on a lock or semaphore (<c>Monitor.Enter</c>,
    /// <c>SemaphoreSlim.WaitAsync</c>, <c>ReaderWriterLockSlim.EnterWriteLock</c>, <c>Lock.EnterScope</c>) in the same body, or
    /// in a lambda passed to an options monitor's <c>OnChange</c>; or when the assigned value is an options snapshot.
    /// </summary>
    public static bool IsProtected(IOperation write, KnownTypes types)
    {
        if (write is ISimpleAssignmentOperation { Value: { } value } && IsOptionsValue(value.Unwrap(), types))
        {
            return true;
        }

        IOperation? body = null;
        var current = write.Parent;
        for (var i = 0; current is not null && i < MaxParentDepth; i++, current = current.Parent)
        {
            switch (current)
            {
                case ILockOperation:
                    return true;
                case IAnonymousFunctionOperation lambda when IsOptionsChangeCallback(lambda, types):
                    return true;
            }

            body = current;
        }

        return body is not null && HasPrecedingWait(body, write.Syntax.SpanStart, types);
    }

    /// <summary>
    /// True when the write is a switch of the shared object's own state rather than request state: the whole body of an
    /// ordinary method is one assignment of a constant to a member of <c>this</c> (<c>TurnOn() =&gt; _on = true;</c>,
    /// <c>Pause() { _paused = true; }</c>). No request data reaches the member, nothing is read and then written (no
    /// check-then-act, no lost update), and "the last call wins" is what such a command means. A constant assigned
    /// by a method that does anything else (<c>_busy = true;</c> in a request handler), or in a lambda, is not a switch.
    /// </summary>
    public static bool IsStateSwitch(IOperation write, IMethodSymbol? method)
    {
        if (write is not ISimpleAssignmentOperation { Value.ConstantValue.HasValue: true } assignment
            || assignment.Parent is not IExpressionStatementOperation statement
            || statement.Parent is not IBlockOperation block
            || block.Parent is not IMethodBodyOperation
            || method is not { MethodKind: MethodKind.Ordinary })
        {
            return false;
        }

        foreach (var operation in block.Operations)
        {
            if (operation != statement && !(operation is IReturnOperation { ReturnedValue: null } && operation.IsImplicit))
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasPrecedingWait(IOperation body, int position, KnownTypes types)
    {
        foreach (var operation in body.Descendants())
        {
            if (operation is not IInvocationOperation call || call.Syntax.SpanStart >= position)
            {
                continue;
            }

            var containing = call.TargetMethod.ContainingType;
            if (containing is null)
            {
                continue;
            }

            if (containing.IsSame(types.Monitor) && call.TargetMethod.Name is "Enter" or "TryEnter")
            {
                return true;
            }

            foreach (var synchronization in types.SynchronizationTypes)
            {
                if (containing.IsOrDerivesFrom(synchronization) && call.TargetMethod.Name is not ("Release" or "Exit" or "ExitWriteLock" or "ExitReadLock" or "ExitUpgradeableReadLock" or "Dispose" or "Set" or "Reset"))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsOptionsValue(IOperation value, KnownTypes types)
    {
        var instance = value switch
        {
            IPropertyReferenceOperation { Property.Name: "CurrentValue" or "Value" } property => property.Instance,
            IInvocationOperation { TargetMethod.Name: "Get" } call => call.Instance,
            _ => null,
        };

        if (instance?.Type is not { } type)
        {
            return false;
        }

        foreach (var options in types.OptionsTypes)
        {
            if (type.IsOrImplements(options))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsOptionsChangeCallback(IAnonymousFunctionOperation lambda, KnownTypes types)
    {
        var parent = lambda.Parent is IDelegateCreationOperation creation ? creation.Parent : lambda.Parent;
        if (parent is not IArgumentOperation { Parent: IInvocationOperation { TargetMethod: { Name: "OnChange" } method } })
        {
            return false;
        }

        var containing = method.ContainingType;
        if (containing.IsSame(types.OptionsMonitorExtensions))
        {
            return true;
        }

        foreach (var options in types.OptionsTypes)
        {
            if (containing.IsOrImplements(options))
            {
                return true;
            }
        }

        return false;
    }

    private static ISymbol? GetAssignedMember(IOperation target, out WriteKind kind)
    {
        var unwrapped = target.Unwrap();
        if (unwrapped is IPropertyReferenceOperation { Property.IsIndexer: true, Instance: { } instance } && GetRootMember(instance) is { } collection)
        {
            kind = WriteKind.CollectionMutation;
            return collection;
        }

        var member = GetMemberOfThis(unwrapped);
        kind = member is null ? WriteKind.None : WriteKind.Assignment;
        return member;
    }

    /// <summary>The field or auto-property of 'this' the value is (<c>_items</c>), or that holds it (<c>_byUser[id]</c>).</summary>
    private static ISymbol? GetRootMember(IOperation operation)
    {
        var current = operation.Unwrap();
        for (var i = 0; i < MaxRootDepth; i++)
        {
            if (GetMemberOfThis(current) is { } member)
            {
                return member;
            }

            if (current is IPropertyReferenceOperation { Property.IsIndexer: true, Instance: { } instance })
            {
                current = instance.Unwrap();
                continue;
            }

            return null;
        }

        return null;
    }

    private static ISymbol? GetMemberOfThis(IOperation operation) => operation switch
    {
        IFieldReferenceOperation { Instance: IInstanceReferenceOperation, Field: { IsStatic: false } field } => field.OriginalDefinition,
        IPropertyReferenceOperation { Instance: IInstanceReferenceOperation, Property: { IsStatic: false, IsIndexer: false } property } => property.OriginalDefinition,
        _ => null,
    };

    /// <summary>A method of a framework collection (System.Collections, .Generic, .ObjectModel) that changes its contents.</summary>
    private static bool IsCollectionMutator(IMethodSymbol method)
    {
        switch (method.Name)
        {
            case "Add" or "AddRange" or "AddFirst" or "AddLast" or "AddBefore" or "AddAfter" or "Insert" or "InsertRange"
                or "Remove" or "RemoveAt" or "RemoveAll" or "RemoveRange" or "RemoveFirst" or "RemoveLast" or "RemoveWhere" or "Clear"
                or "Enqueue" or "Dequeue" or "TryDequeue" or "Push" or "Pop" or "TryPop" or "TryAdd" or "Sort" or "Reverse"
                or "UnionWith" or "IntersectWith" or "ExceptWith" or "SymmetricExceptWith":
                var ns = method.ContainingType?.ContainingNamespace;
                return IsNamespace(ns, Generic) || IsNamespace(ns, ObjectModel) || IsNamespace(ns, Collections);
            default:
                return false;
        }
    }

    /// <summary>True when <paramref name="ns"/> is the namespace whose parts, innermost first, are <paramref name="parts"/>.</summary>
    public static bool IsNamespace(INamespaceSymbol? ns, string[] parts)
    {
        var current = ns;
        foreach (var part in parts)
        {
            if (current is null || current.IsGlobalNamespace || current.Name != part)
            {
                return false;
            }

            current = current.ContainingNamespace;
        }

        return current is { IsGlobalNamespace: true };
    }
}
