namespace Isolation.AgentFramework.Internal;

/// <summary>The ambient scope every checked operation needs: it says which user is asking.</summary>
internal static class ScopeRequirement
{
    public static IsolationScope Current(string component, string operation)
    {
        var scope = IsolationScope.Current;
        if (scope is null)
        {
            Throw(component, operation);
        }

        return scope;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Throw(string component, string operation) =>
        throw new InvalidOperationException(
            $"{component}.{operation} was called outside an IsolationScope, so there is no user to check the conversation against. " +
            "Call it inside IIsolatedRunner.RunAsync(...) or a scope from IIsolationScopeFactory.CreateScope(...) (IsolationScope.Current must be set).");
}
