using System.Data.Common;

namespace Isolation.EntityFrameworkCore.Internal;

/// <summary>Prefixes a command with a SQL comment naming the current scope's run id, for the database's own logs.</summary>
internal static class RunIdTag
{
    public const string Prefix = "-- isolation.run_id: ";

    public static void Apply(DbCommand command)
    {
        var scope = IsolationScope.Current;
        if (scope is null)
        {
            return;
        }

        var runId = scope.Context.RunId;
        if (!IsSafe(runId))
        {
            return;
        }

        command.CommandText = Prefix + runId + "\n" + command.CommandText;
    }

    // A run id can come from a caller; only characters that cannot end the comment or start another statement are written.
    private static bool IsSafe(string runId)
    {
        foreach (var c in runId)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            {
                return false;
            }
        }

        return runId.Length > 0;
    }
}
