using System.Data;
using System.Data.Common;

namespace Isolation.EntityFrameworkCore.Internal;

internal sealed partial class ContextGuard
{
    private const string SetConfigSql = "SELECT set_config(@isolation_setting, @isolation_value, false)";

    // The current scope's user, or an empty string outside any scope, so a policy comparing with it matches no row.
    private static string SessionUser() => IsolationScope.Current?.Context.UserId ?? string.Empty;

    private void SetSessionUser(DbConnection connection, string setting)
    {
        using var command = SetConfigCommand(connection, setting, SessionUser());
        command.ExecuteNonQuery();
        Volatile.Write(ref _rowLevelSecuritySet, 1);
    }

    private async Task SetSessionUserAsync(DbConnection connection, string setting, CancellationToken cancellationToken)
    {
        var command = SetConfigCommand(connection, setting, SessionUser());
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        Volatile.Write(ref _rowLevelSecuritySet, 1);
    }

    private void ClearSessionUser(DbConnection connection, string setting)
    {
        if (Interlocked.Exchange(ref _rowLevelSecuritySet, 0) == 0 || connection.State != ConnectionState.Open)
        {
            return;
        }

        using var command = SetConfigCommand(connection, setting, string.Empty);
        command.ExecuteNonQuery();
    }

    private async Task ClearSessionUserAsync(DbConnection connection, string setting)
    {
        if (Interlocked.Exchange(ref _rowLevelSecuritySet, 0) == 0 || connection.State != ConnectionState.Open)
        {
            return;
        }

        var command = SetConfigCommand(connection, setting, string.Empty);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }

    private static DbCommand SetConfigCommand(DbConnection connection, string setting, string value)
    {
        var command = connection.CreateCommand();
        command.CommandText = SetConfigSql;
        AddParameter(command, "isolation_setting", setting);
        AddParameter(command, "isolation_value", value);
        return command;
    }

    private static void AddParameter(DbCommand command, string name, string value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = DbType.String;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
