using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Classification;

/// <summary>
/// Recognises a singleton registration by the method's (or constructor's) containing type and lists the types it makes
/// singleton: type arguments, <c>typeof</c> operands, the static type of a registered instance, and the type a factory
/// lambda visibly returns. Registrations: <c>AddSingleton</c>, <c>TryAddSingleton</c>, <c>AddKeyedSingleton</c>,
/// <c>TryAddKeyedSingleton</c>, <c>AddHostedService</c>, <c>ServiceDescriptor.Singleton</c>/<c>KeyedSingleton</c>,
/// <c>ServiceDescriptor.Describe</c>/<c>KeyedDescribe</c> and <c>new ServiceDescriptor(...)</c> with
/// <c>ServiceLifetime.Singleton</c> or an instance, and EF Core's <c>AddDbContext</c> with a singleton context lifetime.
/// </summary>
internal static class SingletonRegistration
{
    private const int MaxLambdaStatements = 16;

    /// <summary>The types registered with singleton lifetime by <paramref name="invocation"/>; empty when it is not a singleton registration.</summary>
    public static ImmutableArray<RegisteredType> GetRegisteredTypes(IInvocationOperation invocation, KnownTypes types)
    {
        var method = invocation.TargetMethod;
        if (!IsSingletonRegistrationMethod(method, types))
        {
            return ImmutableArray<RegisteredType>.Empty;
        }

        // Describe and AddDbContext take the lifetime as an argument: only a constant Singleton makes them singletons.
        if (method.Name is "Describe" or "KeyedDescribe" or "AddDbContext" && !HasSingletonLifetimeArgument(invocation.Arguments, types))
        {
            return ImmutableArray<RegisteredType>.Empty;
        }

        var builder = ImmutableArray.CreateBuilder<RegisteredType>();
        var registration = "registered as a singleton by " + method.Name;
        foreach (var typeArgument in method.TypeArguments)
        {
            Add(builder, typeArgument, isInstance: false, registration, invocation);
        }

        var keyed = method.Name.IndexOf("Keyed", System.StringComparison.Ordinal) >= 0;
        AddFromArguments(builder, invocation.Arguments, method.IsExtensionMethod, keyed, hasLifetime: false, types, registration, invocation);
        return builder.ToImmutable();
    }

    /// <summary>The types a <c>new ServiceDescriptor(...)</c> registers with singleton lifetime (its lifetime argument, or an instance).</summary>
    public static ImmutableArray<RegisteredType> GetRegisteredTypes(IObjectCreationOperation creation, KnownTypes types)
    {
        if (creation.Constructor is not { } constructor || !constructor.ContainingType.IsSame(types.ServiceDescriptor))
        {
            return ImmutableArray<RegisteredType>.Empty;
        }

        var hasLifetime = false;
        foreach (var parameter in constructor.Parameters)
        {
            hasLifetime |= types.ServiceLifetime is not null && parameter.Type.IsSame(types.ServiceLifetime);
        }

        if (hasLifetime && !HasSingletonLifetimeArgument(creation.Arguments, types))
        {
            return ImmutableArray<RegisteredType>.Empty;
        }

        var builder = ImmutableArray.CreateBuilder<RegisteredType>();
        AddFromArguments(builder, creation.Arguments, skipFirst: false, keyed: false, hasLifetime, types, "registered as a singleton by new ServiceDescriptor", creation);
        return builder.ToImmutable();
    }

    public static bool IsSingletonRegistrationMethod(IMethodSymbol method, KnownTypes types)
    {
        // Called for every invocation in the compilation: the name decides almost all of them before any symbol work.
        var expected = method.Name switch
        {
            "AddSingleton" or "AddKeyedSingleton" => types.ServiceCollectionServiceExtensions,
            "TryAddSingleton" or "TryAddKeyedSingleton" => types.ServiceCollectionDescriptorExtensions,
            "AddHostedService" => types.ServiceCollectionHostedServiceExtensions,
            "Singleton" or "KeyedSingleton" or "Describe" or "KeyedDescribe" => types.ServiceDescriptor,
            "AddDbContext" => types.EntityFrameworkServiceCollectionExtensions,
            _ => null,
        };

        return expected is not null && method.ContainingType is { } containing && containing.IsSame(expected);
    }

    private static void AddFromArguments(
        ImmutableArray<RegisteredType>.Builder builder,
        ImmutableArray<IArgumentOperation> arguments,
        bool skipFirst,
        bool keyed,
        bool hasLifetime,
        KnownTypes types,
        string registration,
        IOperation site)
    {
        // An 'object' parameter is the registered instance unless it is the service key: the key comes first, and a
        // keyed registration (or a constructor that also takes a lifetime) with one 'object' parameter has only the key.
        var objectParameters = 0;
        var lastObjectOrdinal = -1;
        foreach (var argument in arguments)
        {
            if (argument.Parameter is { Type.SpecialType: SpecialType.System_Object } p)
            {
                objectParameters++;
                lastObjectOrdinal = p.Ordinal;
            }
        }

        var instanceOrdinal = objectParameters >= 2 || (objectParameters == 1 && !keyed && !hasLifetime) ? lastObjectOrdinal : -1;
        foreach (var argument in arguments)
        {
            var parameter = argument.Parameter;
            if (parameter is null || (skipFirst && parameter.Ordinal == 0) || argument.ArgumentKind == ArgumentKind.DefaultValue)
            {
                continue;
            }

            var value = argument.Value.Unwrap();
            switch (value)
            {
                case ITypeOfOperation typeOf:
                    Add(builder, typeOf.TypeOperand, isInstance: false, registration, site);
                    break;
                case IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda }:
                    Add(builder, GetReturnedType(lambda), isInstance: false, registration, site);
                    break;
                case IAnonymousFunctionOperation lambda:
                    Add(builder, GetReturnedType(lambda), isInstance: false, registration, site);
                    break;
                default:
                    var isInstance = parameter.Type.SpecialType == SpecialType.System_Object
                        ? parameter.Ordinal == instanceOrdinal
                        : parameter.OriginalDefinition.Type is ITypeParameterSymbol && !parameter.Type.IsSame(types.IServiceProvider);
                    if (isInstance)
                    {
                        Add(builder, value.Type, isInstance: true, registration, site);
                    }

                    break;
            }
        }
    }

    /// <summary>True when the first <c>ServiceLifetime</c> argument (EF Core's context lifetime, a descriptor's lifetime) is the constant Singleton.</summary>
    private static bool HasSingletonLifetimeArgument(ImmutableArray<IArgumentOperation> arguments, KnownTypes types)
    {
        if (types.ServiceLifetime is null)
        {
            return false;
        }

        foreach (var argument in arguments)
        {
            if (argument.Parameter is null || !argument.Parameter.Type.IsSame(types.ServiceLifetime))
            {
                continue;
            }

            var value = argument.Value.Unwrap();
            if (!value.ConstantValue.HasValue)
            {
                return false;
            }

            foreach (var member in types.ServiceLifetime.GetMembers("Singleton"))
            {
                if (member is IFieldSymbol { HasConstantValue: true } singleton)
                {
                    return Equals(singleton.ConstantValue, value.ConstantValue.Value);
                }
            }

            return false;
        }

        return false;
    }

    private static ITypeSymbol? GetReturnedType(IAnonymousFunctionOperation lambda)
    {
        var statements = lambda.Body.Operations;
        if (statements.Length == 0 || statements.Length > MaxLambdaStatements)
        {
            return null;
        }

        return statements[statements.Length - 1] is IReturnOperation { ReturnedValue: { } returned } ? returned.Unwrap().Type : null;
    }

    private static void Add(ImmutableArray<RegisteredType>.Builder builder, ITypeSymbol? type, bool isInstance, string registration, IOperation site)
    {
        if (type is null || type.TypeKind == TypeKind.Error || type.SpecialType == SpecialType.System_Object)
        {
            return;
        }

        builder.Add(new RegisteredType(type, isInstance, registration, site.Syntax.GetLocation()));
    }
}
