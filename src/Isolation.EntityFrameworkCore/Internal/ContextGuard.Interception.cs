using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Isolation.EntityFrameworkCore.Internal;

internal sealed partial class ContextGuard
{
    private const string ExecuteReader = "ExecuteReader";
    private const string ExecuteNonQuery = "ExecuteNonQuery";
    private const string ExecuteScalar = "ExecuteScalar";
    private const string SaveChanges = "SaveChanges";
    private const string BeginTransaction = "BeginTransaction";
    private const string UseTransaction = "UseTransaction";
    private const string Commit = "Commit";
    private const string Rollback = "Rollback";
    private const string Savepoint = "Savepoint";

    // Commands: checked, and held busy from executing to executed (or failed, or canceled).

    public DbCommand CommandInitialized(CommandEndEventData eventData, DbCommand result)
    {
        if (_options.TagCommandsWithRunId)
        {
            RunIdTag.Apply(result);
        }

        return result;
    }

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Check(eventData.Context, ExecuteReader);
        Enter(command, ExecuteReader);
        return result;
    }

    public ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Check(eventData.Context, ExecuteReader);
        Enter(command, ExecuteReader);
        return new(result);
    }

    public DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result)
    {
        Exit(command);
        return result;
    }

    public ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        Exit(command);
        return new(result);
    }

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        Check(eventData.Context, ExecuteNonQuery);
        Enter(command, ExecuteNonQuery);
        return result;
    }

    public ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Check(eventData.Context, ExecuteNonQuery);
        Enter(command, ExecuteNonQuery);
        return new(result);
    }

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        Exit(command);
        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Exit(command);
        return new(result);
    }

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        Check(eventData.Context, ExecuteScalar);
        Enter(command, ExecuteScalar);
        return result;
    }

    public ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        Check(eventData.Context, ExecuteScalar);
        Enter(command, ExecuteScalar);
        return new(result);
    }

    public object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        Exit(command);
        return result;
    }

    public ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        Exit(command);
        return new(result);
    }

    public void CommandFailed(DbCommand command, CommandErrorEventData eventData) => Exit(command);

    public Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Exit(command);
        return Task.CompletedTask;
    }

    public void CommandCanceled(DbCommand command, CommandEndEventData eventData) => Exit(command);

    public Task CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Exit(command);
        return Task.CompletedTask;
    }

    // SaveChanges: checked (EF Core's detector already refuses two at once).

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Check(eventData.Context, SaveChanges);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Check(eventData.Context, SaveChanges);
        return new(result);
    }

    // Transactions: checked, and held busy for the duration of each operation, which EF Core's detector does not do.

    public InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        Check(eventData.Context, BeginTransaction);
        Enter(connection, BeginTransaction);
        return result;
    }

    public ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        Check(eventData.Context, BeginTransaction);
        Enter(connection, BeginTransaction);
        return new(result);
    }

    public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        Exit(connection);
        return result;
    }

    public ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        Exit(connection);
        return new(result);
    }

    public DbTransaction TransactionUsed(DbConnection connection, TransactionEventData eventData, DbTransaction result)
    {
        Check(eventData.Context, UseTransaction);
        return result;
    }

    public ValueTask<DbTransaction> TransactionUsedAsync(DbConnection connection, TransactionEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        Check(eventData.Context, UseTransaction);
        return new(result);
    }

    public InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
        => EnterTransaction(transaction, eventData, Commit, result);

    public ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        => new(EnterTransaction(transaction, eventData, Commit, result));

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Exit(transaction);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        => ExitCompleted(transaction);

    public InterceptionResult TransactionRollingBack(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
        => EnterTransaction(transaction, eventData, Rollback, result);

    public ValueTask<InterceptionResult> TransactionRollingBackAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        => new(EnterTransaction(transaction, eventData, Rollback, result));

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Exit(transaction);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        => ExitCompleted(transaction);

    public InterceptionResult CreatingSavepoint(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
        => EnterTransaction(transaction, eventData, Savepoint, result);

    public ValueTask<InterceptionResult> CreatingSavepointAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        => new(EnterTransaction(transaction, eventData, Savepoint, result));

    public void CreatedSavepoint(DbTransaction transaction, TransactionEventData eventData) => Exit(transaction);

    public Task CreatedSavepointAsync(DbTransaction transaction, TransactionEventData eventData, CancellationToken cancellationToken = default)
        => ExitCompleted(transaction);

    public InterceptionResult RollingBackToSavepoint(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
        => EnterTransaction(transaction, eventData, Savepoint, result);

    public ValueTask<InterceptionResult> RollingBackToSavepointAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        => new(EnterTransaction(transaction, eventData, Savepoint, result));

    public void RolledBackToSavepoint(DbTransaction transaction, TransactionEventData eventData) => Exit(transaction);

    public Task RolledBackToSavepointAsync(DbTransaction transaction, TransactionEventData eventData, CancellationToken cancellationToken = default)
        => ExitCompleted(transaction);

    public InterceptionResult ReleasingSavepoint(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
        => EnterTransaction(transaction, eventData, Savepoint, result);

    public ValueTask<InterceptionResult> ReleasingSavepointAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        => new(EnterTransaction(transaction, eventData, Savepoint, result));

    public void ReleasedSavepoint(DbTransaction transaction, TransactionEventData eventData) => Exit(transaction);

    public Task ReleasedSavepointAsync(DbTransaction transaction, TransactionEventData eventData, CancellationToken cancellationToken = default)
        => ExitCompleted(transaction);

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => ExitFailedTransaction(transaction);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        ExitFailedTransaction(transaction);
        return Task.CompletedTask;
    }

    private InterceptionResult EnterTransaction(DbTransaction transaction, TransactionEventData eventData, string operation, InterceptionResult result)
    {
        Check(eventData.Context, operation);
        Enter(transaction, operation);
        return result;
    }

    private Task ExitCompleted(object token)
    {
        Exit(token);
        return Task.CompletedTask;
    }

    private void ExitFailedTransaction(DbTransaction? transaction)
    {
        // A failed begin reports no transaction: free the connection it held.
        var holder = Volatile.Read(ref _holder);
        if (holder is DbConnection || (transaction is not null && ReferenceEquals(holder, transaction)))
        {
            Interlocked.CompareExchange(ref _holder, null, holder);
        }
    }
}
