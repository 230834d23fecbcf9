using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Classification;

/// <summary>
/// A comma-separated list of fully-qualified metadata names from <c>.editorconfig</c>, where <c>*</c> matches any
/// run of characters (<c>MyApp.Agents.*</c>, <c>*.ChatSession</c>). Nested types use <c>+</c>, generic types their
/// arity (<c>MyApp.Cache`1</c>).
/// </summary>
internal sealed class TypeNamePatterns
{
    public static readonly TypeNamePatterns Empty = new(ImmutableArray<string>.Empty);

    private static readonly char[] Separators = { ',', ';' };

    private readonly ImmutableArray<string> _patterns;

    private TypeNamePatterns(ImmutableArray<string> patterns) => _patterns = patterns;

    public bool IsEmpty => _patterns.IsEmpty;

    public static TypeNamePatterns Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return Empty;
        }

        var parts = value!.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        var builder = ImmutableArray.CreateBuilder<string>(parts.Length);
        foreach (var part in parts)
        {
            var trimmed = part.Trim();
            if (trimmed.Length > 0)
            {
                builder.Add(trimmed);
            }
        }

        return builder.Count == 0 ? Empty : new TypeNamePatterns(builder.ToImmutable());
    }

    /// <summary>True when <paramref name="type"/> itself matches one of the patterns.</summary>
    public bool Matches(INamedTypeSymbol type)
    {
        if (_patterns.IsEmpty)
        {
            return false;
        }

        var name = GetMetadataName(type.OriginalDefinition);
        foreach (var pattern in _patterns)
        {
            if (WildcardMatch(pattern, name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The fully-qualified metadata name: <c>Namespace.Outer+Inner`1</c>.</summary>
    public static string GetMetadataName(INamedTypeSymbol type)
    {
        var name = type.MetadataName;
        var containing = type.ContainingType;
        var depth = 0;
        while (containing is not null && depth++ < 32)
        {
            name = containing.MetadataName + "+" + name;
            containing = containing.ContainingType;
        }

        var ns = (containing ?? type).ContainingNamespace;
        return ns is null || ns.IsGlobalNamespace ? name : ns.ToDisplayString() + "." + name;
    }

    /// <summary>Ordinal glob match with <c>*</c> only; iterative, so no pattern can recurse deeply.</summary>
    internal static bool WildcardMatch(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
