using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Isolation.Analyzers.Classification;

/// <summary>
/// Recognises a singleton registration (<c>AddSingleton</c>, <c>TryAddSingleton</c>, <c>AddKeyedSingleton</c>,
/// <c>TryAddKeyedSingleton</c>, <c>AddHostedService</c>, <c>ServiceDescriptor.Singleton</c>/<c>KeyedSingleton</c>) by the
/// method's containing type, and lists the types it makes singleton: type arguments, <c>typeof</c> operands, the static type
/// of a registered instance, and the type a factory lambda visibly returns.
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

        var builder = ImmutableArray.CreateBuilder<RegisteredType>();
        foreach (var typeArgument in method.TypeArguments)
        {
            Add(builder, typeArgument, isInstance: false);
        }

        foreach (var argument in invocation.Arguments)
        {
            var parameter = argument.Parameter;
            if (parameter is null || (method.IsExtensionMethod && parameter.Ordinal == 0))
            {
                continue;
            }

            var value = Unwrap(argument.Value);
            switch (value)
            {
                case ITypeOfOperation typeOf:
                    Add(builder, typeOf.TypeOperand, isInstance: false);
                    break;
                case IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda }:
                    Add(builder, GetReturnedType(lambda), isInstance: false);
                    break;
                case IAnonymousFunctionOperation lambda:
                    Add(builder, GetReturnedType(lambda), isInstance: false);
                    break;
                default:
                    if (IsInstanceParameter(parameter, types))
                    {
                        Add(builder, value.Type, isInstance: true);
                    }

                    break;
            }
        }

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
            "Singleton" or "KeyedSingleton" => types.ServiceDescriptor,
            _ => null,
        };

        return expected is not null && method.ContainingType is { } containing && containing.IsSame(expected);
    }

    private static bool IsInstanceParameter(IParameterSymbol parameter, KnownTypes types)
    {
        // The instance overloads take 'object implementationInstance' or 'TService implementationInstance'.
        if (parameter.Type.SpecialType == SpecialType.System_Object)
        {
            return parameter.Name.IndexOf("instance", System.StringComparison.OrdinalIgnoreCase) >= 0;
        }

        return parameter.OriginalDefinition.Type is ITypeParameterSymbol && !parameter.Type.IsSame(types.IServiceProvider);
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

    private static ITypeSymbol? GetReturnedType(IAnonymousFunctionOperation lambda)
    {
        var statements = lambda.Body.Operations;
        if (statements.Length == 0 || statements.Length > MaxLambdaStatements)
        {
            return null;
        }

        return statements[statements.Length - 1] is IReturnOperation { ReturnedValue: { } returned } ? Unwrap(returned).Type : null;
    }

    private static void Add(ImmutableArray<RegisteredType>.Builder builder, ITypeSymbol? type, bool isInstance)
    {
        if (type is null || type.TypeKind == TypeKind.Error || type.SpecialType == SpecialType.System_Object)
        {
            return;
        }

        builder.Add(new RegisteredType(type, isInstance));
    }
}
