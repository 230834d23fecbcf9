using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Isolation;

/// <summary>A command of a <see cref="GuardedDbConnection"/>: checks the session's guard around every execution.</summary>
internal sealed class GuardedDbCommand : DbCommand
{
    private readonly DbCommand _inner;
    private GuardedDbConnection? _connection;
    private GuardedDbTransaction? _transaction;

    public GuardedDbCommand(GuardedDbConnection connection, DbCommand inner)
    {
        _connection = connection;
        _inner = inner;
    }

    [AllowNull]
    public override string CommandText
    {
        get => _inner.CommandText;
        set => _inner.CommandText = value;
    }

    public override int CommandTimeout
    {
        get => _inner.CommandTimeout;
        set => _inner.CommandTimeout = value;
    }

    public override CommandType CommandType
    {
        get => _inner.CommandType;
        set => _inner.CommandType = value;
    }

    public override bool DesignTimeVisible
    {
        get => _inner.DesignTimeVisible;
        set => _inner.DesignTimeVisible = value;
    }

    public override UpdateRowSource UpdatedRowSource
    {
        get => _inner.UpdatedRowSource;
        set => _inner.UpdatedRowSource = value;
    }

    protected override DbConnection? DbConnection
    {
        get => _connection ?? _inner.Connection;
        set
        {
            // A command moved to another guarded connection is checked against that connection's guard; a command moved
            // to an unguarded connection is not checked any more.
            _connection = value as GuardedDbConnection;
            _inner.Connection = _connection is null ? value : _connection.Inner;
        }
    }

    protected override DbParameterCollection DbParameterCollection => _inner.Parameters;

    protected override DbTransaction? DbTransaction
    {
        get => _transaction ?? _inner.Transaction;
        set
        {
            _transaction = value as GuardedDbTransaction;
            _inner.Transaction = _transaction is null ? value : _transaction.Inner;
        }
    }

    public override void Cancel() => _inner.Cancel();

    public override int ExecuteNonQuery()
    {
        using var access = Enter(nameof(ExecuteNonQuery));
        return _inner.ExecuteNonQuery();
    }

    public override Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken)
    {
        var access = Enter(nameof(ExecuteNonQueryAsync));
        Task<int> pending;
        try
        {
            pending = _inner.ExecuteNonQueryAsync(cancellationToken);
        }
        catch
        {
            access.Dispose();
            throw;
        }

        return ExitWhenDone(pending, access);
    }

    public override object? ExecuteScalar()
    {
        using var access = Enter(nameof(ExecuteScalar));
        return _inner.ExecuteScalar();
    }

    public override Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken)
    {
        var access = Enter(nameof(ExecuteScalarAsync));
        Task<object?> pending;
        try
        {
            pending = _inner.ExecuteScalarAsync(cancellationToken);
        }
        catch
        {
            access.Dispose();
            throw;
        }

        return ExitWhenDone(pending, access);
    }

    public override void Prepare()
    {
        using var access = Enter(nameof(Prepare));
        _inner.Prepare();
    }

    public override async Task PrepareAsync(CancellationToken cancellationToken = default)
    {
        using var access = Enter(nameof(PrepareAsync));
        await _inner.PrepareAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override DbParameter CreateDbParameter() => _inner.CreateParameter();

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior)
    {
        using var access = Enter("ExecuteReader");
        return _inner.ExecuteReader(behavior);
    }

    protected override Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken)
    {
        var access = Enter("ExecuteReaderAsync");
        Task<DbDataReader> pending;
        try
        {
            pending = _inner.ExecuteReaderAsync(behavior, cancellationToken);
        }
        catch
        {
            access.Dispose();
            throw;
        }

        return ExitWhenDone(pending, access);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// Ends the access when the provider's task completes. A task that already completed (SQLite, or a provider's
    /// synchronous fast path) is returned as it is, so the guard adds no allocation to it.
    /// </summary>
    private static Task<T> ExitWhenDone<T>(Task<T> pending, SessionAccess access)
    {
        if (pending.IsCompleted)
        {
            access.Dispose();
            return pending;
        }

        return AwaitAndExit(pending, access);

        static async Task<T> AwaitAndExit(Task<T> pending, SessionAccess access)
        {
            try
            {
                return await pending.ConfigureAwait(false);
            }
            finally
            {
                access.Dispose();
            }
        }
    }

    private SessionAccess Enter(string operation) => _connection is { } connection ? connection.Guard.EnterOperation(operation) : default;
}
