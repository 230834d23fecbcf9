using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Isolation.AgentFramework.Internal;

/// <summary>Argument checks with the caller's expression as the parameter name.</summary>
internal static class Guard
{
    public static T NotNull<T>([NotNull] T? value, [CallerArgumentExpression(nameof(value))] string argumentName = "")
        where T : class
    {
        if (value is null)
        {
            ThrowArgumentNull(argumentName);
        }

        return value;
    }

    [DoesNotReturn]
    private static void ThrowArgumentNull(string argumentName) => throw new ArgumentNullException(argumentName);
}
