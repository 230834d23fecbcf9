namespace Isolation;

/// <summary>
/// Something a scope owns and releases when it ends, in reverse order of acquisition. Each resource decides at
/// release whether still being held counts as a leak (a session does; an agent, owned by design, does not).
/// </summary>
internal interface IScopeResource
{
    /// <summary>The resource type, for error reports.</summary>
    string ResourceType { get; }

    /// <summary>Releases the resource at scope end. May throw: the scope reports and goes on with the next one.</summary>
    ValueTask ReleaseAsync(IsolationScope scope);
}
