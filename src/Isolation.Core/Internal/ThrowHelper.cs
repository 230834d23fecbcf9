using System.Diagnostics.CodeAnalysis;

namespace Isolation.Internal;

/// <summary>Keeps throw sites out of hot methods so they stay small enough to inline.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentNull(string argumentName) => throw new ArgumentNullException(argumentName);

    [DoesNotReturn]
    public static void ThrowArgument(string message, string argumentName) => throw new ArgumentException(message, argumentName);

    [DoesNotReturn]
    public static void ThrowObjectDisposed(string objectName, string message) => throw new ObjectDisposedException(objectName, message);

    [DoesNotReturn]
    public static void ThrowInvalidOperation(string message) => throw new InvalidOperationException(message);
}
