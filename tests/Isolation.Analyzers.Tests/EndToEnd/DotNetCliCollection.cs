namespace Isolation.Analyzers.Tests.EndToEnd;

/// <summary>The tests that run the dotnet CLI against the repository's projects run one at a time, never in parallel.</summary>
[CollectionDefinition(Name)]
public sealed class DotNetCliCollection
{
    public const string Name = "dotnet CLI";
}
