using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Classification;

/// <summary>A type made singleton by a registration, whether it was registered as an existing instance, and where.</summary>
internal readonly struct RegisteredType
{
    public RegisteredType(ITypeSymbol type, bool isInstance, string registration, Location location, bool inEntryPoint = false)
    {
        Type = type;
        IsInstance = isInstance;
        Registration = registration;
        Location = location;
        InEntryPoint = inEntryPoint;
    }

    /// <summary>Singleton because it is created once in the entry point, not because of a registration.</summary>
    public bool InEntryPoint { get; }

    public ITypeSymbol Type { get; }

    public bool IsInstance { get; }

    /// <summary>How the type became singleton ("registered as a singleton by AddSingleton", "created once in the entry point"), for messages.</summary>
    public string Registration { get; }

    public Location Location { get; }

    /// <summary>"registered by AddSingleton at Program.cs:12": the registration a message names.</summary>
    public string Describe()
    {
        var span = Location.GetLineSpan();
        var file = System.IO.Path.GetFileName(span.Path);
        return string.IsNullOrEmpty(file) ? Registration : Registration + " at " + file + ":" + (span.StartLinePosition.Line + 1);
    }
}
