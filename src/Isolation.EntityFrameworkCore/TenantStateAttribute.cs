namespace Isolation.EntityFrameworkCore;

/// <summary>
/// Marks a field or property of a pooled <see cref="Microsoft.EntityFrameworkCore.DbContext"/> that holds per-request tenant
/// state (a tenant id, a user id, a filter value). When the context goes back to its pool the member must be back at its
/// type's default value (<see langword="null"/>, 0, <see cref="Guid.Empty"/>); otherwise the context is reported as dirty
/// (<c>session_leak</c>) and is not handed to the next request.
/// </summary>
/// <example>
/// <code>
/// public sealed class AppDb(DbContextOptions&lt;AppDb&gt; options) : DbContext(options)
/// {
///     [TenantState]
///     public string? TenantId { get; set; }
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class TenantStateAttribute : Attribute
{
}
