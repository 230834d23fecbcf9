namespace Isolation;

/// <summary>
/// Marks a type as request-scoped for the analyzers without implementing <see cref="IAgent"/>: its instances belong
/// to one request and must not be held by a singleton, a static field or a hosted service.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface, Inherited = true, AllowMultiple = false)]
public sealed class RequestScopedAttribute : Attribute
{
}
