using System.Collections.Concurrent;
using System.Text;

namespace Isolation.Internal;

/// <summary>Readable, cached type names for messages and metric tags (generic arguments spelled out).</summary>
internal static class TypeNames
{
    private static readonly ConcurrentDictionary<Type, string> Cache = new();

    public static string Of(Type type) => Cache.GetOrAdd(type, static t => Format(t));

    public static string Of<T>() => Holder<T>.Name;

    private static string Format(Type type)
    {
        if (!type.IsGenericType)
        {
            return type.FullName ?? type.Name;
        }

        var builder = new StringBuilder();
        var name = type.GetGenericTypeDefinition().FullName ?? type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        builder.Append(tick < 0 ? name : name.Substring(0, tick)).Append('<');
        var arguments = type.GetGenericArguments();
        for (var i = 0; i < arguments.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(", ");
            }

            builder.Append(Format(arguments[i]));
        }

        return builder.Append('>').ToString();
    }

    private static class Holder<T>
    {
#pragma warning disable CA2263 // This is the generic overload's own cache.
        public static readonly string Name = Of(typeof(T));
#pragma warning restore CA2263
    }
}
