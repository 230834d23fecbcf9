using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Classification;

/// <summary>The request-scoped type a member's declared type holds, directly or through a collection, Lazy or Task.</summary>
internal readonly struct HeldState
{
    public static readonly HeldState None;

    public HeldState(RequestScopedKind kind, ITypeSymbol type, bool throughContainer)
    {
        Kind = kind;
        Type = type;
        ThroughContainer = throughContainer;
    }

    public RequestScopedKind Kind { get; }

    /// <summary>The request-scoped type found (the element type when <see cref="ThroughContainer"/>).</summary>
    public ITypeSymbol? Type { get; }

    /// <summary>True when the state is held through a collection, <c>Lazy&lt;T&gt;</c> or task rather than directly.</summary>
    public bool ThroughContainer { get; }

    public bool IsNone => Kind == RequestScopedKind.None;
}
