namespace Isolation;

/// <summary>Scoped service through which the DI scope knows the isolation scope it belongs to.</summary>
internal sealed class ScopeHolder
{
    public IsolationScope? Scope { get; set; }
}
