using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Isolation.Analyzers.Classification;

/// <summary>
/// The simple names of every type of a compilation that can be an agent, for a syntax check before binding: the agent
/// types declared in source and in the referenced assemblies that can declare one (those that reference the assembly of
/// <c>IAgent</c> or <c>[RequestScoped]</c>, directly or through another such assembly), and every <c>using</c> alias name
/// (an alias can stand for any type). Computed once per compilation, on first use. Valid only where no
/// <c>.editorconfig</c> names agent types.
/// </summary>
internal sealed class AgentNames
{
    private const int MaxNamespaceDepth = 64;

    private readonly Compilation _compilation;
    private readonly IsolationContext _isolation;
    private HashSet<string>? _names;

    public AgentNames(Compilation compilation, IsolationContext isolation)
    {
        _compilation = compilation;
        _isolation = isolation;
    }

    /// <summary>
    /// False only when the type named in <c>new Name(...)</c> cannot be an agent: no agent type and no alias has that name,
    /// or it is a predefined type. Shapes it does not know are assumed to be possible agents.
    /// </summary>
    public bool MayBeAgent(TypeSyntax type)
    {
        var name = type switch
        {
            SimpleNameSyntax simple => simple.Identifier.ValueText,
            QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
            AliasQualifiedNameSyntax aliased => aliased.Name.Identifier.ValueText,
            PredefinedTypeSyntax => null,
            _ => string.Empty,
        };

        return name is not null && (name.Length == 0 || Names.Contains(name));
    }

    private HashSet<string> Names => LazyInitializer.EnsureInitialized(ref _names, Compute)!;

    private HashSet<string> Compute()
    {
        var names = new HashSet<string>(System.StringComparer.Ordinal);
        var classifier = _isolation.DefaultClassifier;
        AddAgents(_compilation.Assembly.GlobalNamespace, classifier, names, 0);
        foreach (var assembly in AssembliesThatCanDeclareAgents())
        {
            AddAgents(assembly.GlobalNamespace, classifier, names, 0);
        }

        foreach (var tree in _compilation.SyntaxTrees)
        {
            if (tree.GetRoot() is CompilationUnitSyntax unit)
            {
                AddAliases(unit.Usings, names);
                AddAliases(unit.Members, names, 0);
            }
        }

        return names;
    }

    private List<IAssemblySymbol> AssembliesThatCanDeclareAgents()
    {
        var markers = new HashSet<string>(System.StringComparer.Ordinal);
        foreach (var marker in new[] { _isolation.Types.IAgent, _isolation.Types.RequestScopedAttribute })
        {
            if (marker?.ContainingAssembly is { } assembly && !SymbolEqualityComparer.Default.Equals(assembly, _compilation.Assembly))
            {
                markers.Add(assembly.Identity.Name);
            }
        }

        var result = new List<IAssemblySymbol>();
        if (markers.Count == 0)
        {
            return result;
        }

        // An assembly can declare an agent when it references a marker assembly, or an assembly that can (a base class).
        var pending = new List<IAssemblySymbol>(_compilation.SourceModule.ReferencedAssemblySymbols);
        var changed = true;
        while (changed)
        {
            changed = false;
            for (var i = pending.Count - 1; i >= 0; i--)
            {
                var assembly = pending[i];
                if (markers.Contains(assembly.Identity.Name) || ReferencesAny(assembly, markers))
                {
                    markers.Add(assembly.Identity.Name);
                    result.Add(assembly);
                    pending.RemoveAt(i);
                    changed = true;
                }
            }
        }

        return result;
    }

    private static bool ReferencesAny(IAssemblySymbol assembly, HashSet<string> names)
    {
        foreach (var module in assembly.Modules)
        {
            foreach (var referenced in module.ReferencedAssemblies)
            {
                if (names.Contains(referenced.Name))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static void AddAgents(INamespaceSymbol ns, TypeClassifier classifier, HashSet<string> names, int depth)
    {
        if (depth > MaxNamespaceDepth)
        {
            return;
        }

        foreach (var member in ns.GetMembers())
        {
            switch (member)
            {
                case INamespaceSymbol child:
                    AddAgents(child, classifier, names, depth + 1);
                    break;
                case INamedTypeSymbol type:
                    AddAgents(type, classifier, names, depth + 1);
                    break;
            }
        }
    }

    private static void AddAgents(INamedTypeSymbol type, TypeClassifier classifier, HashSet<string> names, int depth)
    {
        if (depth > MaxNamespaceDepth)
        {
            return;
        }

        if (type.TypeKind == TypeKind.Class && classifier.Classify(type) == RequestScopedKind.Agent)
        {
            names.Add(type.Name);
        }

        foreach (var nested in type.GetTypeMembers())
        {
            AddAgents(nested, classifier, names, depth + 1);
        }
    }

    private static void AddAliases(SyntaxList<UsingDirectiveSyntax> usings, HashSet<string> names)
    {
        foreach (var directive in usings)
        {
            if (directive.Alias is { } alias)
            {
                names.Add(alias.Name.Identifier.ValueText);
            }
        }
    }

    private static void AddAliases(SyntaxList<MemberDeclarationSyntax> members, HashSet<string> names, int depth)
    {
        if (depth > MaxNamespaceDepth)
        {
            return;
        }

        foreach (var member in members)
        {
            if (member is BaseNamespaceDeclarationSyntax ns)
            {
                AddAliases(ns.Usings, names);
                AddAliases(ns.Members, names, depth + 1);
            }
        }
    }
}
