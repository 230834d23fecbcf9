using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Isolation.Analyzers.Classification;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Rules;

/// <summary>
/// State held by a singleton-lifetime type. ISO003: an agent or session in an instance field or auto-property, directly or
/// in a registry/cache collection. ISO006: a non-concurrent collection member that request paths write without a lock.
/// ISO007: a field or auto-property assigned by request paths without a lock. ISO201: a multicast stream (an Rx subject,
/// a Dataflow <c>BroadcastBlock</c>) of conversation messages that do not say whose they are, in an instance field of a
/// singleton or in a static field, pushed into by request paths: every subscriber receives every user's messages. A type that is singleton by itself (hosted
/// service, middleware, configured) is reported when the type has been analysed; a type made singleton by a registration
/// anywhere in the compilation (or created once in the entry point) is reported at compilation end.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SingletonHeldStateAnalyzer : DiagnosticAnalyzer
{
    private const int MaxBaseDepth = 64;
    private const int MaxCallDepth = 8;
    private const int MaxEntryPointParentDepth = 64;
    private const int MaxInferenceDepth = 4;

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.ISO003RequestStateInSingleton,
        Descriptors.ISO003RequestStateInRegisteredSingleton,
        Descriptors.ISO006SharedCollectionInSingleton,
        Descriptors.ISO006SharedCollectionInRegisteredSingleton,
        Descriptors.ISO007MutableFieldInSingleton,
        Descriptors.ISO007MutableFieldInRegisteredSingleton,
        Descriptors.ISO201ConversationStreamInSingleton,
        Descriptors.ISO201ConversationStreamInRegisteredSingleton);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var isolation = IsolationContext.TryGetForSharedState(start.Compilation, start.Options);
            if (isolation is null)
            {
                return;
            }

            var compilation = start.Compilation;
            var cancellation = start.CancellationToken;
            var state = new CompilationState(() => compilation.Options.OutputKind is OutputKind.ConsoleApplication or OutputKind.WindowsApplication
                ? compilation.GetEntryPoint(cancellation)
                : null);
            // One compilation-wide callback for every operation kind, the per-type facts keyed by the containing type,
            // and no symbol-start action: with one, the compiler's driver works out per-symbol actions for every symbol
            // of the compilation, which cost the build far more than the callbacks (docs/analyzers-performance.md).
            start.RegisterOperationAction(
                c => OnOperation(c, isolation, state),
                OperationKind.Invocation,
                OperationKind.ObjectCreation,
                OperationKind.SimpleAssignment,
                OperationKind.CompoundAssignment,
                OperationKind.CoalesceAssignment,
                OperationKind.Increment,
                OperationKind.Decrement,
                OperationKind.MethodReference);
            if (isolation.Types.LLamaContext is not null)
            {
                start.RegisterOperationAction(c => CollectContextUse(c, isolation, state), OperationKind.FieldReference);
            }

            start.RegisterSymbolAction(c => AnalyzeLiveType(c, isolation, state), SymbolKind.NamedType);
            start.RegisterCompilationEndAction(c => Report(c, isolation, state));
        });
    }

    private static void OnOperation(OperationAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        switch (context.Operation.Kind)
        {
            case OperationKind.ObjectCreation:
                CollectCreation(context, isolation, state);
                return;
            case OperationKind.Invocation:
                CollectRegistration(context, isolation, state);
                CollectMemberUse(context, state);
                break;
            case OperationKind.SimpleAssignment or OperationKind.CoalesceAssignment or OperationKind.MethodReference:
                CollectMemberUse(context, state);
                break;
        }

        // The type the operation is in, and the types around it (a nested type's code is its container's code too).
        var type = context.ContainingSymbol.ContainingType;
        for (var i = 0; type is not null && i < MaxBaseDepth; i++, type = type.ContainingType)
        {
            // A type reported live walks its own code at its symbol action.
            if (state.GetAnalysis(type, isolation, context.Options) is { ReportedLive: false } analysis && (analysis.Members is not null || analysis.Streams is not null))
            {
                CollectWrite(context.Operation, context.ContainingSymbol, isolation.Types, analysis);
            }
        }
    }

    private static void CollectRegistration(OperationAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!SingletonRegistration.IsSingletonRegistrationMethod(invocation.TargetMethod, isolation.Types))
        {
            return;
        }

        foreach (var registered in SingletonRegistration.GetRegisteredTypes(invocation, isolation.Types))
        {
            state.Registered.Add(registered);
        }
    }

    private static void CollectCreation(OperationAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        var creation = (IObjectCreationOperation)context.Operation;
        if (creation.Type is not INamedTypeSymbol created || created.TypeKind != TypeKind.Class)
        {
            return;
        }

        if (created.IsSame(isolation.Types.ServiceDescriptor))
        {
            foreach (var registered in SingletonRegistration.GetRegisteredTypes(creation, isolation.Types))
            {
                state.Registered.Add(registered);
            }

            return;
        }

        if (created.Locations.IsEmpty || !created.Locations[0].IsInSource || !IsCreatedOnce(creation) || state.EntryPoint is null)
        {
            return;
        }

        // An object created once and kept in a member of its creator (a field initializer, or an assignment in one of its
        // methods): it may live as long as the creator; decided at compilation end (InferHeldSingletons).
        var parent = creation.GetUnwrappedParent(out var child);
        var kept = parent switch
        {
            ISimpleAssignmentOperation assignment when assignment.Value == child => GetOwnSourceMember(assignment.Target),
            IFieldInitializerOperation { InitializedFields.Length: 1 } initializer => initializer.InitializedFields[0].AssociatedSymbol ?? initializer.InitializedFields[0],
            IPropertyInitializerOperation { InitializedProperties.Length: 1 } initializer => initializer.InitializedProperties[0],
            _ => null,
        };
        if (kept is { IsStatic: false, ContainingType: { } owner })
        {
            state.MemberCreations.Add(new MemberCreation(owner.OriginalDefinition, context.ContainingSymbol as IMethodSymbol, kept.OriginalDefinition, created, creation.Syntax.GetLocation()));
        }

        // An object created once in the entry point (not in a loop or a lambda) lives for the process: a singleton in all
        // but registration. Only source types matter: only they can be reported.
        if (context.ContainingSymbol is not IMethodSymbol method || !SymbolEqualityComparer.Default.Equals(method, state.EntryPoint))
        {
            return;
        }

        state.Registered.Add(new RegisteredType(created, isInstance: true, "created once in the entry point", creation.Syntax.GetLocation(), inEntryPoint: true));
        CollectStartupCalls(creation, created, state);
    }

    /// <summary>
    /// What the lifetime inference through a creator needs (only in a program with an entry point): every assignment of a
    /// member of <c>this</c> that holds a source class, every call on such a member, and the types that hand out one of
    /// their own methods as a delegate.
    /// </summary>
    private static void CollectMemberUse(OperationAnalysisContext context, CompilationState state)
    {
        if (state.EntryPoint is null)
        {
            return;
        }

        var caller = context.ContainingSymbol.OriginalDefinition;
        switch (context.Operation)
        {
            case IAssignmentOperation assignment when GetOwnSourceMember(assignment.Target) is { } member:
                state.MemberAssignments.Add(new MemberUse(member.OriginalDefinition, caller, target: null, IsCreatedOnce(assignment)));
                break;
            case IInvocationOperation { Instance: { } instance } invocation when GetOwnSourceMember(instance) is { } member:
                state.MemberCalls.Add(new MemberUse(member.OriginalDefinition, caller, invocation.TargetMethod.OriginalDefinition, IsCreatedOnce(invocation)));
                break;
            case IMethodReferenceOperation reference when caller.ContainingType is { } type
                && SymbolEqualityComparer.Default.Equals(reference.Method.ContainingType?.OriginalDefinition, type.OriginalDefinition):
                state.Callbacks.TryAdd(type.OriginalDefinition, 0);
                break;
        }
    }

    /// <summary>A field or auto-property of <c>this</c> whose type is a class declared in source, or null.</summary>
    private static ISymbol? GetOwnSourceMember(IOperation operation)
    {
        var (member, type) = operation.Unwrap() switch
        {
            IFieldReferenceOperation { Instance: IInstanceReferenceOperation, Field: { IsStatic: false } field } => ((ISymbol)(field.AssociatedSymbol ?? field), field.Type),
            IPropertyReferenceOperation { Instance: IInstanceReferenceOperation, Property: { IsStatic: false, IsIndexer: false } property } => (property, property.Type),
            _ => ((ISymbol?)null, (ITypeSymbol?)null),
        };
        return type is INamedTypeSymbol { TypeKind: TypeKind.Class } named && !named.Locations.IsEmpty && named.Locations[0].IsInSource ? member : null;
    }

    /// <summary>
    /// Objects that live as long as an object created once in the entry point, proven from the code: created once (outside
    /// loops and lambdas) by that object's set-up code (a field initializer, a constructor, or a method the entry point
    /// calls once on it) and kept in a member that nothing else assigns. They are singletons too, and the methods the
    /// creator's set-up code calls once on them (and nothing else calls) are their start-up code. They serve more than one
    /// request when their creator does. Returns the inferred types; adds their start-up methods to
    /// <paramref name="startup"/>.
    /// </summary>
    private static List<RegisteredType> InferHeldSingletons(CompilationState state, HashSet<ITypeSymbol> registeredOtherwise, HashSet<IMethodSymbol> startup)
    {
        var inferred = new List<RegisteredType>();
        if (state.MemberCreations.IsEmpty)
        {
            return inferred;
        }

        var creators = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        foreach (var registered in state.Registered)
        {
            if (registered.InEntryPoint && !registeredOtherwise.Contains(registered.Type.OriginalDefinition))
            {
                creators.Add(registered.Type.OriginalDefinition);
            }
        }

        // A chain (an object created by an object created by the entry point) is followed a few links deep.
        for (var round = 0; round < MaxInferenceDepth; round++)
        {
            var added = false;
            foreach (var creation in state.MemberCreations)
            {
                var owner = creation.Owner;
                var created = creation.Created.OriginalDefinition;
                if (!creators.Contains(owner) || creators.Contains(created) || registeredOtherwise.Contains(created)
                    || !IsSetUp(creation.Method, owner, startup) || IsReplaced(creation.Member, owner, state, startup))
                {
                    continue;
                }

                creators.Add(created);
                var by = creation.Method is { MethodKind: not MethodKind.Constructor } method ? $"'{owner.Name}.{method.Name}'" : $"'{owner.Name}'";
                inferred.Add(new RegisteredType(creation.Created, isInstance: true, $"created once by {by} and kept in '{creation.Member.Name}' for the life of '{owner.Name}', created once in the entry point", creation.Location, inEntryPoint: true));

                var once = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
                var elsewhere = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
                foreach (var call in state.MemberCalls)
                {
                    if (SymbolEqualityComparer.Default.Equals(call.Member, creation.Member) && call.Target is { } target)
                    {
                        (call.Once && IsSetUp(call.Caller as IMethodSymbol, owner, startup) ? once : elsewhere).Add(target);
                    }
                }

                once.ExceptWith(elsewhere);
                startup.UnionWith(once);
                if (state.Served.Contains(owner) || state.Callbacks.ContainsKey(owner))
                {
                    state.Served.Add(created);
                }

                added = true;
            }

            if (!added)
            {
                break;
            }
        }

        return inferred;
    }

    /// <summary>Set-up code of an owner: its field initializers (no method), its constructors, or its start-up methods.</summary>
    private static bool IsSetUp(IMethodSymbol? method, ITypeSymbol owner, HashSet<IMethodSymbol> startup)
        => method is null
            || (SymbolEqualityComparer.Default.Equals(method.ContainingType?.OriginalDefinition, owner)
                && (method.MethodKind == MethodKind.Constructor || startup.Contains(method.OriginalDefinition)));

    /// <summary>True when the member is assigned anywhere but once in the owner's set-up code.</summary>
    private static bool IsReplaced(ISymbol member, ITypeSymbol owner, CompilationState state, HashSet<IMethodSymbol> startup)
    {
        foreach (var assignment in state.MemberAssignments)
        {
            if (SymbolEqualityComparer.Default.Equals(assignment.Member, member)
                && !(assignment.Once && IsSetUp(assignment.Caller as IMethodSymbol, owner, startup)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The outermost operation above <paramref name="operation"/> (the entry point's body).</summary>
    private static IOperation GetRoot(IOperation operation)
    {
        var root = operation;
        for (var i = 0; root.Parent is not null && i < MaxEntryPointParentDepth; i++)
        {
            root = root.Parent;
        }

        return root;
    }

    /// <summary>
    /// Methods the entry point calls once on the object it just created (<c>new Bot().StartAsync()</c>, or
    /// <c>var bot = new Bot(); bot.Start();</c> outside loops and lambdas): start-up code that runs before any request,
    /// like the constructor.
    /// </summary>
    private static void CollectStartupCalls(IObjectCreationOperation creation, INamedTypeSymbol created, CompilationState state)
    {
        // An entry point that loops runs code more than once: what it created serves more than one request.
        foreach (var operation in GetRoot(creation).Descendants())
        {
            if (operation is ILoopOperation)
            {
                state.Served.Add(created.OriginalDefinition);
                break;
            }
        }

        var parent = creation.GetUnwrappedParent(out var child);
        if (parent is IInvocationOperation direct && direct.Instance == child)
        {
            state.StartupCalls.Add(new StartupCall(created, direct.TargetMethod.OriginalDefinition));
            return;
        }

        if (parent is not IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator })
        {
            return;
        }

        foreach (var operation in GetRoot(declarator).Descendants())
        {
            if (operation is IInvocationOperation { Instance: { } instance } invocation
                && instance.Unwrap() is ILocalReferenceOperation local
                && SymbolEqualityComparer.Default.Equals(local.Local, declarator.Symbol))
            {
                // A method the entry point also calls in a loop or a lambda runs per request: not start-up.
                var call = new StartupCall(created, invocation.TargetMethod.OriginalDefinition);
                if (IsCreatedOnce(invocation))
                {
                    state.StartupCalls.Add(call);
                }
                else
                {
                    state.RepeatedCalls.Add(call);
                    state.Served.Add(created.OriginalDefinition);
                }
            }
        }
    }

    private static bool IsCreatedOnce(IOperation creation)
    {
        var current = creation.Parent;
        for (var i = 0; current is not null && i < MaxEntryPointParentDepth; i++, current = current.Parent)
        {
            if (current is ILoopOperation or IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A type reported live (singleton by itself, or holding a static stream) walks its own code here and is decided at
    /// once; every other type is collected by the compilation-wide operation action and decided at compilation end, with
    /// the registrations.
    /// </summary>
    private static void AnalyzeLiveType(SymbolAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        if (state.GetAnalysis((INamedTypeSymbol)context.Symbol, isolation, context.Options) is not { ReportedLive: true } analysis)
        {
            return;
        }

        var types = isolation.Types;
        var collectWrites = analysis.Members is not null || analysis.Streams is not null;
        TypeCode.ForEachOperation(context.Compilation, analysis.Type, (operation, owner) =>
        {
            if (operation is IFieldReferenceOperation reference)
            {
                if (reference.Field.DeclaredAccessibility == Accessibility.Private && reference.Field.Type.IsSame(types.LLamaContext))
                {
                    CollectContextUse(reference, types, analysis);
                }
            }
            else if (collectWrites && operation.Kind is OperationKind.SimpleAssignment or OperationKind.CompoundAssignment or OperationKind.CoalesceAssignment
                or OperationKind.Increment or OperationKind.Decrement or OperationKind.Invocation or OperationKind.MethodReference)
            {
                CollectWrite(operation, owner, types, analysis);
            }
        }, context.CancellationToken);
        Decide(analysis, types, state, context.ReportDiagnostic);
    }

    /// <summary>The members of a source class that can be reported, or null when there are none.</summary>
    private static TypeAnalysis? CreateAnalysis(INamedTypeSymbol type, IsolationContext isolation, AnalyzerOptions options)
    {
        if (type.TypeKind != TypeKind.Class || type.Locations.Length == 0 || !type.Locations[0].IsInSource)
        {
            return null;
        }

        var classifier = isolation.GetClassifier(options, type.Locations[0].SourceTree);
        var types = isolation.Types;
        // Multicast streams exist only where Rx or Dataflow is referenced, and hold conversation messages only where an AI library is.
        var payloads = types.ObservableSubject is null && types.BroadcastBlock is null ? null : isolation.Payloads.Any ? isolation.Payloads : null;
        if (type.IsStatic && payloads is null)
        {
            return null;
        }

        List<HeldCandidate>? held = null;
        Dictionary<ISymbol, MemberState>? members = null;
        List<StreamCandidate>? streams = null;
        var typeChecked = false;
        var isHandler = false;
        string? intrinsicReason = null;
        foreach (var member in type.GetMembers())
        {
            if (member is not IFieldSymbol { IsConst: false } field)
            {
                continue;
            }

            // Auto-properties are analysed through their compiler-generated backing field.
            var property = field.AssociatedSymbol as IPropertySymbol;
            ISymbol reported = property ?? (ISymbol)field;
            if ((field.IsImplicitlyDeclared && property is null) || reported.Locations.Length == 0)
            {
                continue;
            }

            if (payloads is not null && payloads.GetMulticastItem(field.Type) is { } item && payloads.IsUnownedConversationMessage(item))
            {
                // A static stream is one for the process; an instance stream only in a singleton (decided below).
                (streams ??= new List<StreamCandidate>()).Add(new StreamCandidate(reported, field.Type, item, field.IsStatic));
                continue;
            }

            if (field.IsStatic)
            {
                continue;
            }

            var heldState = classifier.GetHeldState(field.Type);
            var collection = heldState.IsNone && SharedStateWrites.IsUnsynchronizedCollection(field.Type, classifier);
            var assignable = heldState.IsNone && !field.IsVolatile && !classifier.IsSafeByDesign(field.Type)
                && (property is null ? !field.IsReadOnly : property.SetMethod is { IsInitOnly: false });
            if (heldState.IsNone && !collection && !assignable)
            {
                continue;
            }

            // Checked only for types with a candidate member. An agent or session holding state is per-request itself;
            // ISO001/ISO101 catch it if it is registered as a singleton.
            if (!typeChecked)
            {
                if (classifier.Classify(type) != RequestScopedKind.None)
                {
                    return null;
                }

                intrinsicReason = classifier.GetIntrinsicSingletonReason(type);
                isHandler = classifier.GetHandlerReason(type) is not null;
                typeChecked = true;
            }

            // Hubs, controllers and page models are created per request: their instance state is the request's own.
            if (heldState.IsNone && isHandler)
            {
                continue;
            }

            if (!heldState.IsNone)
            {
                // A private LLamaContext field may be used only to tokenize (no conversation in it): decided from its uses.
                var tokenizerCandidate = property is null && field.DeclaredAccessibility == Accessibility.Private && !heldState.ThroughContainer
                    && field.Type.IsSame(types.LLamaContext);
                (held ??= new List<HeldCandidate>()).Add(new HeldCandidate(reported, heldState, tokenizerCandidate));
            }
            else
            {
                members ??= new Dictionary<ISymbol, MemberState>(SymbolEqualityComparer.Default);
                members[reported] = new MemberState(reported, collection);
            }
        }

        if (held is null && members is null && streams is null)
        {
            return null;
        }

        var perRequest = false;
        if (streams is not null && !typeChecked)
        {
            perRequest = classifier.Classify(type) != RequestScopedKind.None;
            intrinsicReason = classifier.GetIntrinsicSingletonReason(type);
            isHandler = classifier.GetHandlerReason(type) is not null;
        }

        // An agent's, a hub's or a controller's instance stream is the request's own; a static one is still the process's.
        if (streams is not null && (isHandler || perRequest))
        {
            streams.RemoveAll(static s => !s.IsStatic);
            if (streams.Count == 0)
            {
                streams = null;
                if (held is null && members is null)
                {
                    return null;
                }
            }
        }

        return new TypeAnalysis(type, intrinsicReason, held, members, streams);
    }

    /// <summary>One operation of the type's code: a write of a candidate member, a push into a stream, a call or a delegate of its own methods.</summary>
    private static void CollectWrite(IOperation operation, ISymbol owner, KnownTypes types, TypeAnalysis analysis)
    {
        var caller = owner as IMethodSymbol;
        switch (operation)
        {
            case IMethodReferenceOperation reference when IsOwnMethod(reference.Method, analysis.Type):
                // A method passed as a delegate (a timer callback, an event handler) can run on any thread at any time.
                analysis.Escaping.Add(reference.Method.OriginalDefinition);
                return;
            case IInvocationOperation invocation:
                if (caller is not null && IsOwnMethod(invocation.TargetMethod, analysis.Type))
                {
                    analysis.Calls.Add(new Call(caller.OriginalDefinition, invocation.TargetMethod.OriginalDefinition));
                }

                if (analysis.Streams is not null && GetPushedStream(invocation, analysis.Streams) is { } stream)
                {
                    stream.Writers.Add(caller?.OriginalDefinition);
                    return;
                }

                if (analysis.Members is null)
                {
                    return;
                }

                if (SharedStateWrites.GetInterlockedMember(invocation, types) is { } interlocked && analysis.Members!.TryGetValue(interlocked, out var synchronized))
                {
                    synchronized.Synchronized = true;
                    return;
                }

                break;
        }

        if (analysis.Members is null)
        {
            return;
        }

        var member = SharedStateWrites.GetWrittenMember(operation, types, out var kind);
        if (member is null || !analysis.Members.TryGetValue(member, out var memberState))
        {
            return;
        }

        if (kind == WriteKind.CollectionMutation && !memberState.IsCollection)
        {
            return;
        }

        // A method that only switches the object's own state to a constant (TurnOn/TurnOff) is a command on the shared
        // object, not request state: treated like a protected write.
        var write = new Write(kind, caller?.OriginalDefinition, SharedStateWrites.IsProtected(operation, types)
            || (kind == WriteKind.Assignment && SharedStateWrites.IsStateSwitch(operation, caller)));
        memberState.Writes.Add(write);
    }

    /// <summary>
    /// The stream an item is pushed into: <c>OnNext</c> on an Rx subject, <c>Post</c>/<c>SendAsync</c> on a Dataflow block
    /// (an instance method or an extension method whose first argument is the stream).
    /// </summary>
    private static StreamCandidate? GetPushedStream(IInvocationOperation invocation, List<StreamCandidate> streams)
    {
        var method = invocation.TargetMethod;
        if (method.Name is not ("OnNext" or "Post" or "SendAsync"))
        {
            return null;
        }

        var target = invocation.Instance ?? (method.IsExtensionMethod && invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null);
        ISymbol? referenced = target?.Unwrap() switch
        {
            IFieldReferenceOperation field => field.Field.AssociatedSymbol ?? field.Field,
            IPropertyReferenceOperation property => property.Property,
            _ => null,
        };
        if (referenced is null)
        {
            return null;
        }

        foreach (var stream in streams)
        {
            if (SymbolEqualityComparer.Default.Equals(stream.Member, referenced.OriginalDefinition))
            {
                return stream;
            }
        }

        return null;
    }

    /// <summary>
    /// A use of a tokenizer candidate (a private LLamaContext field) that is not assigning it, tokenizing
    /// (<c>Tokenize</c>/<c>DeTokenize</c>) or disposing it: the context then holds a conversation. A private field is
    /// referenced only by its own type's code (and its nested types').
    /// </summary>
    private static void CollectContextUse(OperationAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        var reference = (IFieldReferenceOperation)context.Operation;
        var field = reference.Field;
        if (field.DeclaredAccessibility != Accessibility.Private || !field.Type.IsSame(isolation.Types.LLamaContext)
            || state.GetAnalysis(field.ContainingType, isolation, context.Options) is not { ReportedLive: false } analysis)
        {
            return;
        }

        CollectContextUse(reference, isolation.Types, analysis);
    }

    private static void CollectContextUse(IFieldReferenceOperation reference, KnownTypes types, TypeAnalysis analysis)
    {
        if (analysis.Held is not { } candidates)
        {
            return;
        }

        HeldCandidate? candidate = null;
        foreach (var held in candidates)
        {
            if (held.TokenizerCandidate && SymbolEqualityComparer.Default.Equals(held.Member, reference.Field.OriginalDefinition))
            {
                candidate = held;
                break;
            }
        }

        if (candidate is null)
        {
            return;
        }

        switch (GetContextUse(reference, types))
        {
            case ContextUse.Tokenize:
                candidate.Tokenized = true;
                break;
            case ContextUse.Other:
                candidate.UsedForConversation = true;
                break;
        }
    }

    private static ContextUse GetContextUse(IFieldReferenceOperation reference, KnownTypes types)
    {
        IMethodSymbol method;
        switch (reference.GetUnwrappedParent(out var child))
        {
            case ISimpleAssignmentOperation assignment when assignment.Target == child:
                return ContextUse.Lifecycle;
            case IInvocationOperation call when call.Instance == child:
                method = call.TargetMethod;
                break;
            case IConditionalAccessOperation access when access.Operation == child
                && access.WhenNotNull is IInvocationOperation { Instance: IConditionalAccessInstanceOperation } inner:
                method = inner.TargetMethod;
                break;
            default:
                return ContextUse.Other;
        }

        if (!method.ContainingType.IsSame(types.LLamaContext))
        {
            return ContextUse.Other;
        }

        return method.Name switch
        {
            "Tokenize" or "DeTokenize" => ContextUse.Tokenize,
            "Dispose" => ContextUse.Lifecycle,
            _ => ContextUse.Other,
        };
    }

    private enum ContextUse
    {
        Lifecycle,
        Tokenize,
        Other,
    }

    private static bool IsOwnMethod(IMethodSymbol method, INamedTypeSymbol type)
        => SymbolEqualityComparer.Default.Equals(method.OriginalDefinition.ContainingType, type.OriginalDefinition);

    /// <summary>
    /// The type's findings, once every operation in its code has been collected: reported now when the type is singleton
    /// by itself (and a static stream always), else kept for the registrations at compilation end.
    /// </summary>
    private static void Decide(TypeAnalysis analysis, KnownTypes types, CompilationState state, System.Action<Diagnostic> report)
    {
        var findings = new List<Finding>();
        if (analysis.Held is not null)
        {
            foreach (var candidate in analysis.Held)
            {
                if (!candidate.TokenizerCandidate || candidate.UsedForConversation || !candidate.Tokenized)
                {
                    findings.Add(Finding.ForHeld(candidate));
                }
            }
        }

        if (analysis.Streams is not null)
        {
            var lifecycle = GetLifecycleMethods(analysis, types);
            foreach (var stream in analysis.Streams)
            {
                foreach (var writer in stream.Writers)
                {
                    if (writer is not null && !lifecycle.Contains(writer))
                    {
                        if (stream.IsStatic)
                        {
                            // One for the process whatever the type's lifetime: reported now.
                            report(Finding.ForStream(stream, writer).Create(analysis.Type, "a static field", live: true));
                        }
                        else
                        {
                            findings.Add(Finding.ForStream(stream, writer));
                        }

                        break;
                    }
                }
            }
        }

        if (analysis.Members is not null)
        {
            var lifecycle = GetLifecycleMethods(analysis, types);
            foreach (var member in analysis.Members.Values)
            {
                if (member.Synchronized)
                {
                    continue;
                }

                List<IMethodSymbol>? mutatedBy = null;
                List<IMethodSymbol>? assignedBy = null;
                foreach (var write in member.Writes)
                {
                    if (write.IsProtected || write.Method is null || lifecycle.Contains(write.Method))
                    {
                        continue;
                    }

                    var writers = write.Kind == WriteKind.CollectionMutation ? mutatedBy ??= new List<IMethodSymbol>() : assignedBy ??= new List<IMethodSymbol>();
                    if (!writers.Exists(w => SymbolEqualityComparer.Default.Equals(w, write.Method)))
                    {
                        writers.Add(write.Method);
                    }
                }

                if (mutatedBy is not null)
                {
                    findings.Add(Finding.ForCollection(member.Member, Ordered(mutatedBy)));
                }
                else if (assignedBy is not null && IsAssignable(member.Member))
                {
                    findings.Add(Finding.ForAssignment(member.Member, Ordered(assignedBy)));
                }
            }
        }

        if (findings.Count == 0)
        {
            return;
        }

        if (analysis.IntrinsicReason is { } reason)
        {
            foreach (var finding in findings)
            {
                report(finding.Create(analysis.Type, reason, live: true));
            }

            return;
        }

        state.Pending.Add(new PendingType(analysis.Type, findings, hasCallbacks: !analysis.Escaping.IsEmpty));
    }

    /// <summary>Writers in source order, so that the method a message names does not depend on analysis order.</summary>
    private static List<IMethodSymbol> Ordered(List<IMethodSymbol> writers)
    {
        writers.Sort(static (a, b) =>
        {
            var x = a.Locations.Length > 0 ? a.Locations[0] : Location.None;
            var y = b.Locations.Length > 0 ? b.Locations[0] : Location.None;
            var byFile = string.CompareOrdinal(x.SourceTree?.FilePath, y.SourceTree?.FilePath);
            return byFile != 0 ? byFile : x.SourceSpan.Start.CompareTo(y.SourceSpan.Start);
        });
        return writers;
    }

    private static bool IsAssignable(ISymbol member) => member switch
    {
        IFieldSymbol field => !field.IsReadOnly,
        IPropertySymbol property => property.SetMethod is { IsInitOnly: false },
        _ => false,
    };

    /// <summary>
    /// Methods that do not run on request paths: constructors, disposal (including the <c>Dispose(bool)</c> pattern), a hosted service's StartAsync/StopAsync/ExecuteAsync,
    /// and private methods called only from those (never passed as a delegate).
    /// </summary>
    private static HashSet<IMethodSymbol> GetLifecycleMethods(TypeAnalysis analysis, KnownTypes types)
    {
        var lifecycle = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
        var hosted = analysis.Type.IsOrImplements(types.IHostedService);
        foreach (var member in analysis.Type.GetMembers())
        {
            if (member is not IMethodSymbol method)
            {
                continue;
            }

            if (method.MethodKind is MethodKind.Constructor or MethodKind.StaticConstructor
                || SessionMethods.IsDisposal(method, types)
                || (method.Name == "Dispose" && method.Parameters.Length == 1 && method.Parameters[0].Type.SpecialType == SpecialType.System_Boolean
                    && analysis.Type.IsAssignableTo(types.IDisposable))
                || (hosted && method.Name is "StartAsync" or "StopAsync" or "ExecuteAsync" && IsHostedLifecycle(method, types)))
            {
                lifecycle.Add(method.OriginalDefinition);
            }
        }

        // Private helpers reached only from lifecycle methods are lifecycle too (bounded fixpoint).
        var callers = new Dictionary<IMethodSymbol, List<IMethodSymbol>>(SymbolEqualityComparer.Default);
        foreach (var call in analysis.Calls)
        {
            if (!callers.TryGetValue(call.Callee, out var list))
            {
                callers[call.Callee] = list = new List<IMethodSymbol>();
            }

            list.Add(call.Caller);
        }

        for (var round = 0; round < MaxCallDepth; round++)
        {
            var changed = false;
            foreach (var pair in callers)
            {
                var callee = pair.Key;
                if (callee.DeclaredAccessibility != Accessibility.Private || lifecycle.Contains(callee) || analysis.Escaping.Contains(callee))
                {
                    continue;
                }

                var all = true;
                foreach (var caller in pair.Value)
                {
                    all &= lifecycle.Contains(caller);
                }

                if (all)
                {
                    lifecycle.Add(callee);
                    changed = true;
                }
            }

            if (!changed)
            {
                break;
            }
        }

        return lifecycle;
    }

    private static bool IsHostedLifecycle(IMethodSymbol method, KnownTypes types)
    {
        for (var current = method; current is not null; current = current.OverriddenMethod)
        {
            var containing = current.ContainingType;
            if (containing.IsSame(types.BackgroundService) || containing.IsSame(types.IHostedService))
            {
                return true;
            }
        }

        if (types.IHostedService is null)
        {
            return false;
        }

        foreach (var member in types.IHostedService.GetMembers(method.Name))
        {
            if (SymbolEqualityComparer.Default.Equals(method.ContainingType.FindImplementationForInterfaceMember(member)?.OriginalDefinition, method.OriginalDefinition))
            {
                return true;
            }
        }

        return false;
    }

    private static void Report(CompilationAnalysisContext context, IsolationContext isolation, CompilationState state)
    {
        if (state.Registered.IsEmpty)
        {
            return;
        }

        foreach (var analysis in state.Analyses.Values)
        {
            if (analysis is { ReportedLive: false })
            {
                Decide(analysis, isolation.Types, state, context.ReportDiagnostic);
            }
        }

        if (state.Pending.IsEmpty)
        {
            return;
        }

        // Types made singleton by something else than their creation in the entry point get no start-up exemption.
        var registeredOtherwise = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        foreach (var registered in state.Registered)
        {
            if (!registered.InEntryPoint)
            {
                var current = registered.Type;
                for (var i = 0; current is not null && i < MaxBaseDepth; i++, current = current.BaseType)
                {
                    if (!registeredOtherwise.Add(current.OriginalDefinition))
                    {
                        break;
                    }
                }
            }
        }

        var startup = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
        foreach (var call in state.StartupCalls)
        {
            if (!registeredOtherwise.Contains(call.Type.OriginalDefinition))
            {
                startup.Add(call.Method);
            }
        }

        foreach (var call in state.RepeatedCalls)
        {
            startup.Remove(call.Method);
        }

        var inferred = InferHeldSingletons(state, registeredOtherwise, startup);

        // Every registered type and its base classes: a registered derived type holds its base class's fields.
        var singletons = new Dictionary<ITypeSymbol, string>(SymbolEqualityComparer.Default);
        inferred.AddRange(state.Registered);
        foreach (var registered in inferred)
        {
            var reason = registered.Describe();
            var current = registered.Type;
            for (var i = 0; current is not null && i < MaxBaseDepth; i++)
            {
                var definition = current.OriginalDefinition;
                if (singletons.TryGetValue(definition, out var existing) && string.CompareOrdinal(existing, reason) <= 0)
                {
                    break;
                }

                // The same text whatever order the registrations were collected in.
                singletons[definition] = reason;
                current = current.BaseType;
            }
        }

        foreach (var pending in state.Pending)
        {
            if (!singletons.TryGetValue(pending.Type.OriginalDefinition, out var reason))
            {
                continue;
            }

            // An object the entry point creates is shared between requests only if the program visibly runs more than one:
            // the entry point loops or calls it from a lambda, or the type hands out a callback. A one-shot console program
            // that builds its objects, runs one request and exits shares nothing between users.
            var definition = pending.Type.OriginalDefinition;
            var oneShot = !registeredOtherwise.Contains(definition) && !state.Served.Contains(definition) && !pending.HasCallbacks;
            foreach (var finding in pending.Findings)
            {
                if (oneShot && finding.IsWrite)
                {
                    continue;
                }

                if (finding.WithoutWriters(startup) is { } remaining)
                {
                    context.ReportDiagnostic(remaining.Create(pending.Type, reason, live: false));
                }
            }
        }
    }

    private sealed class CompilationState
    {
        private readonly System.Lazy<IMethodSymbol?> _entryPoint;

        public CompilationState(System.Func<IMethodSymbol?> entryPoint) => _entryPoint = new System.Lazy<IMethodSymbol?>(entryPoint, LazyThreadSafetyMode.ExecutionAndPublication);

        public IMethodSymbol? EntryPoint => _entryPoint.Value;

        /// <summary>Every source type seen (at its symbol start or in an operation of its code); null where nothing can be reported.</summary>
        public ConcurrentDictionary<INamedTypeSymbol, TypeAnalysis?> Analyses { get; } = new(SymbolEqualityComparer.Default);

        /// <summary>The type's analysis, made by the first callback that needs it (the same for every caller).</summary>
        public TypeAnalysis? GetAnalysis(INamedTypeSymbol type, IsolationContext isolation, AnalyzerOptions options)
        {
            var definition = type.OriginalDefinition;
            return Analyses.TryGetValue(definition, out var analysis)
                ? analysis
                : Analyses.GetOrAdd(definition, CreateAnalysis(definition, isolation, options));
        }

        public ConcurrentBag<RegisteredType> Registered { get; } = new();

        public ConcurrentBag<PendingType> Pending { get; } = new();

        /// <summary>Methods the entry point calls once on an object it created: start-up, not request paths.</summary>
        public ConcurrentBag<StartupCall> StartupCalls { get; } = new();

        /// <summary>
        /// Types created in an entry point that loops, or whose methods the entry point calls in a loop or a lambda: they
        /// serve more than one request.
        /// </summary>
        public ConcurrentDictionary<ITypeSymbol, byte> ServedTypes { get; } = new(SymbolEqualityComparer.Default);

        public ServedSet Served => new(ServedTypes);

        /// <summary>Methods the entry point calls on such an object in a loop or a lambda.</summary>
        public ConcurrentBag<StartupCall> RepeatedCalls { get; } = new();

        /// <summary>Objects of source classes created once and kept in a member of their creator.</summary>
        public ConcurrentBag<MemberCreation> MemberCreations { get; } = new();

        /// <summary>Assignments of members of <c>this</c> that hold a source class.</summary>
        public ConcurrentBag<MemberUse> MemberAssignments { get; } = new();

        /// <summary>Calls on members of <c>this</c> that hold a source class.</summary>
        public ConcurrentBag<MemberUse> MemberCalls { get; } = new();

        /// <summary>Types that pass one of their own methods as a delegate (a handler, a timer callback).</summary>
        public ConcurrentDictionary<ITypeSymbol, byte> Callbacks { get; } = new(SymbolEqualityComparer.Default);
    }

    private readonly struct MemberCreation
    {
        public MemberCreation(ITypeSymbol owner, IMethodSymbol? method, ISymbol member, INamedTypeSymbol created, Location location)
        {
            Owner = owner;
            Method = method?.OriginalDefinition;
            Member = member;
            Created = created;
            Location = location;
        }

        public ITypeSymbol Owner { get; }

        /// <summary>The method that creates it; null for a field or property initializer.</summary>
        public IMethodSymbol? Method { get; }

        public ISymbol Member { get; }

        public INamedTypeSymbol Created { get; }

        public Location Location { get; }
    }

    private readonly struct MemberUse
    {
        public MemberUse(ISymbol member, ISymbol caller, IMethodSymbol? target, bool once)
        {
            Member = member;
            Caller = caller;
            Target = target;
            Once = once;
        }

        public ISymbol Member { get; }

        /// <summary>The method (or, for an initializer, the field) the use is in.</summary>
        public ISymbol Caller { get; }

        /// <summary>The method called on the member; null for an assignment.</summary>
        public IMethodSymbol? Target { get; }

        /// <summary>Outside loops and lambdas.</summary>
        public bool Once { get; }
    }

    private readonly struct ServedSet
    {
        private readonly ConcurrentDictionary<ITypeSymbol, byte> _types;

        public ServedSet(ConcurrentDictionary<ITypeSymbol, byte> types) => _types = types;

        /// <summary>Adds the type and its base classes (a derived object holds its base class's fields).</summary>
        public void Add(ITypeSymbol type)
        {
            var current = type;
            for (var i = 0; current is not null && i < MaxBaseDepth; i++, current = current.BaseType)
            {
                _types.TryAdd(current.OriginalDefinition, 0);
            }
        }

        public bool Contains(ITypeSymbol type) => _types.ContainsKey(type);
    }

    private readonly struct StartupCall
    {
        public StartupCall(INamedTypeSymbol type, IMethodSymbol method)
        {
            Type = type;
            Method = method;
        }

        public INamedTypeSymbol Type { get; }

        public IMethodSymbol Method { get; }
    }

    private sealed class TypeAnalysis
    {
        public TypeAnalysis(INamedTypeSymbol type, string? intrinsicReason, List<HeldCandidate>? held, Dictionary<ISymbol, MemberState>? members, List<StreamCandidate>? streams)
        {
            Type = type;
            IntrinsicReason = intrinsicReason;
            Held = held;
            Members = members;
            Streams = streams;
            ReportedLive = intrinsicReason is not null || (streams is not null && streams.Exists(static s => s.IsStatic));
        }

        /// <summary>Reported live at the type's symbol action (singleton by itself, or a static stream), not at compilation end.</summary>
        public bool ReportedLive { get; }

        /// <summary>Multicast streams of conversation messages; read-only once created.</summary>
        public List<StreamCandidate>? Streams { get; }

        public INamedTypeSymbol Type { get; }

        public string? IntrinsicReason { get; }

        public List<HeldCandidate>? Held { get; }

        /// <summary>Members that can be shared mutable state; read-only once created, their states are thread-safe.</summary>
        public Dictionary<ISymbol, MemberState>? Members { get; }

        public LockedList<Call> Calls { get; } = new();

        public LockedSet<IMethodSymbol> Escaping { get; } = new(SymbolEqualityComparer.Default);
    }

    private sealed class MemberState
    {
        private int _synchronized;

        public MemberState(ISymbol member, bool isCollection)
        {
            Member = member;
            IsCollection = isCollection;
        }

        public ISymbol Member { get; }

        public bool IsCollection { get; }

        public LockedList<Write> Writes { get; } = new();

        public bool Synchronized
        {
            get => Volatile.Read(ref _synchronized) != 0;
            set => Volatile.Write(ref _synchronized, value ? 1 : 0);
        }
    }

    private readonly struct Write
    {
        public Write(WriteKind kind, IMethodSymbol? method, bool isProtected)
        {
            Kind = kind;
            Method = method;
            IsProtected = isProtected;
        }

        public WriteKind Kind { get; }

        /// <summary>The method the write is in; null in a field initializer.</summary>
        public IMethodSymbol? Method { get; }

        public bool IsProtected { get; }
    }

    private readonly struct Call
    {
        public Call(IMethodSymbol caller, IMethodSymbol callee)
        {
            Caller = caller;
            Callee = callee;
        }

        public IMethodSymbol Caller { get; }

        public IMethodSymbol Callee { get; }
    }

    private sealed class HeldCandidate
    {
        private int _usedForConversation;
        private int _tokenized;

        public HeldCandidate(ISymbol member, HeldState held, bool tokenizerCandidate)
        {
            Member = member;
            Held = held;
            TokenizerCandidate = tokenizerCandidate;
        }

        public ISymbol Member { get; }

        public HeldState Held { get; }

        /// <summary>
        /// A private LLamaContext field: not reported when it is tokenized with and otherwise only assigned or disposed.
        /// </summary>
        public bool TokenizerCandidate { get; }

        public bool Tokenized
        {
            get => Volatile.Read(ref _tokenized) != 0;
            set => Volatile.Write(ref _tokenized, value ? 1 : 0);
        }

        public bool UsedForConversation
        {
            get => Volatile.Read(ref _usedForConversation) != 0;
            set => Volatile.Write(ref _usedForConversation, value ? 1 : 0);
        }
    }

    /// <summary>A field or auto-property holding a multicast stream of conversation messages that do not say whose they are.</summary>
    private sealed class StreamCandidate
    {
        public StreamCandidate(ISymbol member, ITypeSymbol streamType, ITypeSymbol item, bool isStatic)
        {
            Member = member;
            StreamType = streamType;
            Item = item;
            IsStatic = isStatic;
        }

        public ISymbol Member { get; }

        public ITypeSymbol StreamType { get; }

        public ITypeSymbol Item { get; }

        public bool IsStatic { get; }

        /// <summary>The methods that push into the stream (null for a field initializer).</summary>
        public LockedList<IMethodSymbol?> Writers { get; } = new();
    }

    private sealed class PendingType
    {
        public PendingType(INamedTypeSymbol type, List<Finding> findings, bool hasCallbacks)
        {
            HasCallbacks = hasCallbacks;
            Type = type;
            Findings = findings;
        }

        public INamedTypeSymbol Type { get; }

        public List<Finding> Findings { get; }

        /// <summary>A method of the type is passed as a delegate (an event handler, a timer or library callback).</summary>
        public bool HasCallbacks { get; }
    }

    /// <summary>One report waiting for the type's singleton reason.</summary>
    private sealed class Finding
    {
        private readonly WriteKind _kind;
        private readonly ISymbol _member;
        private readonly HeldState _held;
        private readonly IMethodSymbol? _writer;
        private readonly StreamCandidate? _stream;
        private readonly List<IMethodSymbol>? _writers;

        private Finding(WriteKind kind, ISymbol member, HeldState held, IMethodSymbol? writer, StreamCandidate? stream = null, List<IMethodSymbol>? writers = null)
        {
            _kind = kind;
            _member = member;
            _held = held;
            _writer = writer;
            _stream = stream;
            _writers = writers;
        }

        /// <summary>An ISO006 or ISO007 finding (a collection written or a member assigned on a request path).</summary>
        public bool IsWrite => _stream is null && _kind is WriteKind.CollectionMutation or WriteKind.Assignment;

        /// <summary>
        /// The finding without the writes of the given methods (start-up code): null when no other method writes, else the
        /// finding naming the first remaining writer.
        /// </summary>
        public Finding? WithoutWriters(HashSet<IMethodSymbol> excluded)
        {
            if (_writers is null || excluded.Count == 0)
            {
                return this;
            }

            var remaining = _writers.FindAll(w => !excluded.Contains(w));
            return remaining.Count == 0 ? null : new Finding(_kind, _member, _held, remaining[0], _stream, remaining);
        }

        public static Finding ForStream(StreamCandidate stream, IMethodSymbol writer) => new(WriteKind.None, stream.Member, HeldState.None, writer, stream);

        public static Finding ForHeld(HeldCandidate candidate) => new(WriteKind.None, candidate.Member, candidate.Held, writer: null);

        public static Finding ForCollection(ISymbol member, List<IMethodSymbol> writers) => new(WriteKind.CollectionMutation, member, HeldState.None, writers[0], writers: writers);

        public static Finding ForAssignment(ISymbol member, List<IMethodSymbol> writers) => new(WriteKind.Assignment, member, HeldState.None, writers[0], writers: writers);

        public Diagnostic Create(INamedTypeSymbol type, string reason, bool live)
        {
            var location = _member.Locations[0];
            var memberKind = _member.Kind == SymbolKind.Property ? "property" : "field";
            if (_stream is not null)
            {
                return Diagnostic.Create(
                    live ? Descriptors.ISO201ConversationStreamInSingleton : Descriptors.ISO201ConversationStreamInRegisteredSingleton,
                    location,
                    type.Name,
                    reason,
                    memberKind,
                    _member.Name,
                    _stream.StreamType.OriginalDefinition.Name,
                    Display.Short(_stream.Item),
                    _writer!.Name);
            }

            switch (_kind)
            {
                case WriteKind.CollectionMutation:
                    return Diagnostic.Create(
                        live ? Descriptors.ISO006SharedCollectionInSingleton : Descriptors.ISO006SharedCollectionInRegisteredSingleton,
                        location,
                        type.Name,
                        reason,
                        memberKind,
                        _member.Name,
                        _writer!.Name);
                case WriteKind.Assignment:
                    return Diagnostic.Create(
                        live ? Descriptors.ISO007MutableFieldInSingleton : Descriptors.ISO007MutableFieldInRegisteredSingleton,
                        location,
                        type.Name,
                        reason,
                        _member.Name,
                        _writer!.Name);
                default:
                    var kind = _held.Kind == RequestScopedKind.Agent ? "agent" : "session";
                    return Diagnostic.Create(
                        live ? Descriptors.ISO003RequestStateInSingleton : Descriptors.ISO003RequestStateInRegisteredSingleton,
                        location,
                        type.Name,
                        reason,
                        memberKind,
                        _member.Name,
                        _held.ThroughContainer ? "a collection of " + kind : kind,
                        Display.Full(_held.Type!));
            }
        }
    }
}
