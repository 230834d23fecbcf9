using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Isolation;

/// <summary>
/// A <see cref="DbConnection"/> over a guarded session's connection, from
/// <see cref="SessionGuardExtensions.AsDbConnection{TConnection}"/>. Its commands and transactions check the
/// <see cref="SessionGuard{TSession}"/> each time they execute, commit or roll back: use from another scope, from two
/// flows at once, or after the session was disposed is a violation. ADO.NET and Dapper code runs on it unchanged.
/// </summary>
/// <remarks>
/// An operation counts as running from the call that starts it until that call returns (for a reader: until
/// <c>ExecuteReader</c> returns, not while rows are read), so reading one result while running another command in the
/// same flow is not reported. Disposing the connection disposes its guard: the session is closed and returned to its pool.
/// </remarks>
public sealed class GuardedDbConnection : DbConnection
{
    private readonly ISessionGuard _guard;
    private readonly DbConnection _inner;

    internal GuardedDbConnection(ISessionGuard guard, DbConnection inner)
    {
        _guard = guard;
        _inner = inner;
    }

    /// <inheritdoc />
    [AllowNull]
    public override string ConnectionString
    {
        get => _inner.ConnectionString;
        set
        {
            _guard.CheckAccess(nameof(ConnectionString));
            _inner.ConnectionString = value;
        }
    }

    /// <inheritdoc />
    public override int ConnectionTimeout => _inner.ConnectionTimeout;

    /// <inheritdoc />
    public override string Database => _inner.Database;

    /// <inheritdoc />
    public override string DataSource => _inner.DataSource;

    /// <inheritdoc />
    public override string ServerVersion => _inner.ServerVersion;

    /// <inheritdoc />
    public override ConnectionState State => _inner.State;

    internal ISessionGuard Guard => _guard;

    internal DbConnection Inner => _inner;

    /// <inheritdoc />
    public override void ChangeDatabase(string databaseName)
    {
        using var access = _guard.EnterOperation(nameof(ChangeDatabase));
        _inner.ChangeDatabase(databaseName);
    }

    /// <inheritdoc />
    public override void Close()
    {
        _guard.CheckAccess(nameof(Close));
        _inner.Close();
    }

    /// <inheritdoc />
    public override void Open()
    {
        using var access = _guard.EnterOperation(nameof(Open));
        _inner.Open();
    }

    /// <inheritdoc />
    public override async Task OpenAsync(CancellationToken cancellationToken)
    {
        using var access = _guard.EnterOperation(nameof(OpenAsync));
        await _inner.OpenAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override DataTable GetSchema()
    {
        using var access = _guard.EnterOperation(nameof(GetSchema));
        return _inner.GetSchema();
    }

    /// <inheritdoc />
    public override DataTable GetSchema(string collectionName)
    {
        using var access = _guard.EnterOperation(nameof(GetSchema));
        return _inner.GetSchema(collectionName);
    }

    /// <inheritdoc />
    public override DataTable GetSchema(string collectionName, string?[] restrictionValues)
    {
        using var access = _guard.EnterOperation(nameof(GetSchema));
        return _inner.GetSchema(collectionName, restrictionValues);
    }

    /// <summary>Disposes the guard of the session: the session is closed and returned to its pool.</summary>
    /// <returns>A task that completes when the session is closed.</returns>
    public override async ValueTask DisposeAsync()
    {
        await _guard.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override string ToString() => "GuardedDbConnection over " + _guard;

    /// <inheritdoc />
    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel)
    {
        using var access = _guard.EnterOperation("BeginTransaction");
        return new GuardedDbTransaction(this, _inner.BeginTransaction(isolationLevel));
    }

    /// <inheritdoc />
    protected override async ValueTask<DbTransaction> BeginDbTransactionAsync(IsolationLevel isolationLevel, CancellationToken cancellationToken)
    {
        using var access = _guard.EnterOperation("BeginTransactionAsync");
        var transaction = await _inner.BeginTransactionAsync(isolationLevel, cancellationToken).ConfigureAwait(false);
        return new GuardedDbTransaction(this, transaction);
    }

    /// <inheritdoc />
    protected override DbCommand CreateDbCommand()
    {
        _guard.CheckAccess("CreateCommand");
        return new GuardedDbCommand(this, _inner.CreateCommand());
    }

    /// <summary>Disposes the guard of the session (when <paramref name="disposing"/>): the session is closed and returned to its pool.</summary>
    /// <param name="disposing">Whether called from <see cref="IDisposable.Dispose"/>.</param>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _guard.Dispose();
        }

        base.Dispose(disposing);
    }
}
