using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Isolation.EntityFrameworkCore.Internal;

/// <summary>
/// The PostgreSQL row-level-security hook, one per context instance: after EF Core opens the connection it sets the
/// configured setting to the current scope's user id, and before EF Core closes it, back to an empty string.
/// </summary>
internal sealed class RowLevelSecurityInterceptor : IDbConnectionInterceptor
{
    private const string SetConfigSql = "SELECT set_config(@isolation_setting, @isolation_value, false)";

    private readonly string _setting;
    private int _set;

    public RowLevelSecurityInterceptor(IDbContextOptions contextOptions)
        => _setting = contextOptions.FindExtension<IsolationOptionsExtension>()?.Options.RowLevelSecuritySetting
            ?? IsolationDbContextOptions.DefaultRowLevelSecuritySetting;

    public void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = SetConfigCommand(connection, SessionUser());
        command.ExecuteNonQuery();
        Volatile.Write(ref _set, 1);
    }

    public async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        var command = SetConfigCommand(connection, SessionUser());
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        Volatile.Write(ref _set, 1);
    }

    public InterceptionResult ConnectionClosing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        if (Interlocked.Exchange(ref _set, 0) != 0 && connection.State == ConnectionState.Open)
        {
            using var command = SetConfigCommand(connection, string.Empty);
            command.ExecuteNonQuery();
        }

        return result;
    }

    public async ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        if (Interlocked.Exchange(ref _set, 0) != 0 && connection.State == ConnectionState.Open)
        {
            var command = SetConfigCommand(connection, string.Empty);
            await using (command.ConfigureAwait(false))
            {
                await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }

        return result;
    }

    // The current scope's user, or an empty string outside any scope, so a policy comparing with it matches no row.
    private static string SessionUser() => IsolationScope.Current?.Context.UserId ?? string.Empty;

    private DbCommand SetConfigCommand(DbConnection connection, string value)
    {
        var command = connection.CreateCommand();
        command.CommandText = SetConfigSql;
        AddParameter(command, "isolation_setting", _setting);
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
