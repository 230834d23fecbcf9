using System.Data;
using System.Data.Common;

namespace Isolation;

/// <summary>A transaction of a <see cref="GuardedDbConnection"/>: checks the session's guard on commit, rollback and savepoints.</summary>
internal sealed class GuardedDbTransaction : DbTransaction
{
    private readonly GuardedDbConnection _connection;

    public GuardedDbTransaction(GuardedDbConnection connection, DbTransaction inner)
    {
        _connection = connection;
        Inner = inner;
    }

    public override IsolationLevel IsolationLevel => Inner.IsolationLevel;

    public override bool SupportsSavepoints => Inner.SupportsSavepoints;

    public DbTransaction Inner { get; }

    // Providers return null once the transaction completed; so does the wrapper.
    protected override DbConnection? DbConnection => Inner.Connection is null ? null : _connection;

    public override void Commit()
    {
        using var access = _connection.Guard.EnterOperation(nameof(Commit));
        Inner.Commit();
    }

    public override async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        using var access = _connection.Guard.EnterOperation(nameof(CommitAsync));
        await Inner.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Rollback()
    {
        using var access = _connection.Guard.EnterOperation(nameof(Rollback));
        Inner.Rollback();
    }

    public override async Task RollbackAsync(CancellationToken cancellationToken = default)
    {
        using var access = _connection.Guard.EnterOperation(nameof(RollbackAsync));
        await Inner.RollbackAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Save(string savepointName)
    {
        using var access = _connection.Guard.EnterOperation(nameof(Save));
        Inner.Save(savepointName);
    }

    public override async Task SaveAsync(string savepointName, CancellationToken cancellationToken = default)
    {
        using var access = _connection.Guard.EnterOperation(nameof(SaveAsync));
        await Inner.SaveAsync(savepointName, cancellationToken).ConfigureAwait(false);
    }

    public override void Rollback(string savepointName)
    {
        using var access = _connection.Guard.EnterOperation(nameof(Rollback));
        Inner.Rollback(savepointName);
    }

    public override async Task RollbackAsync(string savepointName, CancellationToken cancellationToken = default)
    {
        using var access = _connection.Guard.EnterOperation(nameof(RollbackAsync));
        await Inner.RollbackAsync(savepointName, cancellationToken).ConfigureAwait(false);
    }

    public override void Release(string savepointName)
    {
        using var access = _connection.Guard.EnterOperation(nameof(Release));
        Inner.Release(savepointName);
    }

    public override async Task ReleaseAsync(string savepointName, CancellationToken cancellationToken = default)
    {
        using var access = _connection.Guard.EnterOperation(nameof(ReleaseAsync));
        await Inner.ReleaseAsync(savepointName, cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
