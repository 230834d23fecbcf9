using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Classification;

/// <summary>How types appear in messages: without nullable annotations, which say nothing about isolation.</summary>
internal static class Display
{
    private static readonly SymbolDisplayFormat Qualified = SymbolDisplayFormat.CSharpErrorMessageFormat
        .RemoveMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly SymbolDisplayFormat Minimal = SymbolDisplayFormat.MinimallyQualifiedFormat
        .RemoveMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static string Full(ITypeSymbol? type) => type?.ToDisplayString(Qualified) ?? "?";

    public static string Short(ITypeSymbol? type) => type?.ToDisplayString(Minimal) ?? "?";
}
