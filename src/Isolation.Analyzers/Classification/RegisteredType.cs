using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Classification;

/// <summary>A type made singleton by a registration, and whether it was registered as an existing instance.</summary>
internal readonly struct RegisteredType
{
    public RegisteredType(ITypeSymbol type, bool isInstance)
    {
        Type = type;
        IsInstance = isInstance;
    }

    public ITypeSymbol Type { get; }

    public bool IsInstance { get; }
}
