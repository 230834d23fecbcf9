using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Isolation.Tests.Support;

/// <summary>
/// An ADO.NET provider whose commands allocate nothing: every execution returns the same boxed scalar and the same
/// completed task. Wrapped by the guard, whatever the guarded path allocates shows up on its own, without the real
/// provider's allocations, which depend on what the JIT made of the provider's code at that moment.
/// </summary>
internal sealed class ConstantDbConnection : DbConnection
{
    private ConnectionState _state = ConnectionState.Open;

    public int Executions { get; private set; }

    [AllowNull]
    public override string ConnectionString { get; set; } = string.Empty;

    public override string Database => "constant";

    public override string DataSource => "constant";

    public override string ServerVersion => "1";

    public override ConnectionState State => _state;

    public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

    public override void Close() => _state = ConnectionState.Closed;

    public override void Open() => _state = ConnectionState.Open;

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => throw new NotSupportedException();

    protected override DbCommand CreateDbCommand() => new ConstantCommand(this);

    private sealed class ConstantCommand(ConstantDbConnection connection) : DbCommand
    {
        private static readonly object One = 1L;
        private static readonly Task<object?> OneTask = Task.FromResult<object?>(One);
        private static readonly Task<int> OneRowTask = Task.FromResult(1);
        private DbConnection? _connection = connection;

        [AllowNull]
        public override string CommandText { get; set; } = string.Empty;

        public override int CommandTimeout { get; set; }

        public override CommandType CommandType { get; set; }

        public override bool DesignTimeVisible { get; set; }

        public override UpdateRowSource UpdatedRowSource { get; set; }

        protected override DbConnection? DbConnection
        {
            get => _connection;
            set => _connection = value;
        }

        protected override DbParameterCollection DbParameterCollection => throw new NotSupportedException();

        protected override DbTransaction? DbTransaction { get; set; }

        public override void Cancel()
        {
        }

        public override int ExecuteNonQuery()
        {
            connection.Executions++;
            return 1;
        }

        public override Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken)
        {
            connection.Executions++;
            return OneRowTask;
        }

        public override object? ExecuteScalar()
        {
            connection.Executions++;
            return One;
        }

        public override Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken)
        {
            connection.Executions++;
            return OneTask;
        }

        public override void Prepare()
        {
        }

        protected override DbParameter CreateDbParameter() => throw new NotSupportedException();

        protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => throw new NotSupportedException();
    }
}
