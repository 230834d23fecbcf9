using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using Microsoft.EntityFrameworkCore;

namespace Isolation.EntityFrameworkCore.Internal;

/// <summary>The <see cref="TenantStateAttribute"/> members of a context type, each with a compiled "is at its default" test.</summary>
internal static class TenantStateMembers
{
    private static readonly ConcurrentDictionary<Type, Member[]> Cache = new();

    public static Member[] For(Type contextType) => Cache.GetOrAdd(contextType, Build);

    private static Member[] Build(Type contextType)
    {
        var members = new List<Member>();
        for (var type = contextType; type is not null && type != typeof(DbContext); type = type.BaseType)
        {
            foreach (var member in type.GetMembers(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (member.GetCustomAttribute<TenantStateAttribute>() is null)
                {
                    continue;
                }

                var memberType = member switch
                {
                    FieldInfo field => field.FieldType,
                    PropertyInfo { CanRead: true } property when property.GetIndexParameters().Length == 0 => property.PropertyType,
                    _ => throw new InvalidOperationException(
                        $"[TenantState] on {type.FullName}.{member.Name}: only fields and readable, non-indexed properties can be checked. Move the attribute to the field that holds the tenant state."),
                };

                var context = Expression.Parameter(typeof(DbContext), "context");
                var value = Expression.MakeMemberAccess(Expression.Convert(context, type), member);
                var comparer = typeof(EqualityComparer<>).MakeGenericType(memberType);
                var isDefault = Expression.Call(
                    Expression.Property(null, comparer.GetProperty(nameof(EqualityComparer<object>.Default))!),
                    comparer.GetMethod(nameof(EqualityComparer<object>.Equals), [memberType, memberType])!,
                    value,
                    Expression.Default(memberType));
                members.Add(new Member(member.Name, Expression.Lambda<Func<DbContext, bool>>(isDefault, context).Compile()));
            }
        }

        return [.. members];
    }

    internal sealed record Member(string Name, Func<DbContext, bool> IsDefault);
}
