using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.Rules;

public sealed class UndisposedSessionAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Data.Common;
        using System.Threading.Tasks;
        using Microsoft.EntityFrameworkCore;

        public sealed class AppDb : DbContext { }
        public sealed class FakeConnection : DbConnection
        {
            public FakeConnection(string connectionString) { }
            public override string ConnectionString { get; set; } = "";
            public override string Database => "";
            public override string DataSource => "";
            public override string ServerVersion => "";
            public override System.Data.ConnectionState State => System.Data.ConnectionState.Closed;
            public override void ChangeDatabase(string databaseName) { }
            public override void Close() { }
            public override void Open() { }
            protected override DbTransaction BeginDbTransaction(System.Data.IsolationLevel isolationLevel) => throw new NotSupportedException();
            protected override DbCommand CreateDbCommand() => throw new NotSupportedException();
        }

        public static class DapperLike
        {
            public static Task<int> ExecuteAsync(this DbConnection connection, string sql) => Task.FromResult(0);
        }

        """;

    [Fact]
    public async Task Analyze_SessionCreatedAndNeverDisposed_ReportsISO103()
    {
        await Verifier<UndisposedSessionAnalyzer>.VerifyAsync(Usings + """
            public sealed class Repository
            {
                public async Task<int> CountAsync(DbDataSource dataSource, IDbContextFactory<AppDb> factory)
                {
                    var {|ISO103:connection = new FakeConnection("Data Source=chat.db")|};
                    await connection.OpenAsync();
                    var {|ISO103:pooled = await dataSource.OpenConnectionAsync()|};
                    var {|ISO103:db = factory.CreateDbContext()|};
                    await db.SaveChangesAsync();
                    return await connection.ExecuteAsync("select 1") + await pooled.ExecuteAsync("select 2");
                }

                public void Sync()
                {
                    AppDb {|ISO103:db = new AppDb()|};
                    db.SaveChangesAsync().Wait();
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_DisposedReturnedOrHandedOver_NoDiagnostic()
    {
        await Verifier<UndisposedSessionAnalyzer>.VerifyAsync(Usings + """
            public sealed class Owner { public Owner(DbConnection connection) { } }

            public sealed class Repository
            {
                private DbConnection? _kept;

                public async Task Disposed()
                {
                    using var a = new FakeConnection("a");
                    await using var b = new AppDb();
                    using (var c = new FakeConnection("c")) { c.Open(); }
                    var d = new FakeConnection("d");
                    try { d.Open(); } finally { d.Dispose(); }
                    var e = new AppDb();
                    await e.DisposeAsync();
                    var f = new FakeConnection("f");
                    f.Close();
                    var g = new FakeConnection("g");
                    using (g) { }
                    var h = new FakeConnection("h");
                    h?.Dispose();
                }

                public DbConnection Returned() { var c = new FakeConnection("r"); return c; }
                public void Stored() { var c = new FakeConnection("s"); _kept = c; }
                public Owner HandedOver() { var c = new FakeConnection("o"); return new Owner(c); }
                public Func<DbConnection> Captured() { var c = new FakeConnection("l"); return () => c; }

                // Not a creation the rule can attribute: a shared connection from elsewhere.
                public void Borrowed(Func<DbConnection> get) { var c = get(); c.Open(); }

                // Not a session type.
                public void NotSession() { var client = new System.Net.Http.HttpClient(); }
            }
            """);
    }

    [Fact]
    public async Task Analyze_AsyncDisposableInAsyncMethod_SuggestsAwaitUsing()
    {
        await Verifier<UndisposedSessionAnalyzer>.VerifyAsync(Usings + """
            public sealed class Repository
            {
                public async Task SaveAsync()
                {
                    var db = new AppDb();
                    await db.SaveChangesAsync();
                }
            }
            """.Replace("var db = new AppDb();", "var {|#0:db = new AppDb()|};"),
            [Verifier<UndisposedSessionAnalyzer>.Diagnostic(Descriptors.ISO103SessionNotDisposed).WithArguments("db", "AppDb", "await using")]);
    }

    [Fact]
    public async Task Analyze_FactoriesAndDisposalBySymbol_NotByName()
    {
        await Verifier<UndisposedSessionAnalyzer>.VerifyAsync("""
            using System;
            using System.Threading.Tasks;
            using Microsoft.EntityFrameworkCore;

            public sealed class AppDb : DbContext { }
            namespace MyApp { public sealed class TenantSession : IDisposable { public void Close() { } public void Dispose() { } } }

            public sealed class Contexts : IDbContextFactory<AppDb>
            {
                private readonly AppDb _shared = new();
                public AppDb CreateDbContext() => new AppDb();
                // Named like factories, but they hand out the shared context: the caller does not own it.
                public AppDb OpenShared() => _shared;
                public AppDb CreateView() => _shared;
            }

            public sealed class Worker
            {
                public int Run(Contexts contexts)
                {
                    var {|ISO103:owned = contexts.CreateDbContext()|};
                    var shared = contexts.OpenShared();
                    var view = contexts.CreateView();
                    // Close() of a type that is not a connection does not dispose it.
                    var {|ISO103:session = new MyApp.TenantSession()|};
                    session.Close();
                    return owned.GetHashCode() + shared.GetHashCode() + view.GetHashCode();
                }
            }
            """,
            "isolation.session_types = MyApp.TenantSession");
    }

    [Fact]
    public async Task Analyze_SessionCreatedIntoFieldNeverDisposed_ReportsISO103()
    {
        await Verifier<UndisposedSessionAnalyzer>.VerifyAsync(
            """
            using System;
            using System.Data.Common;
            using System.Threading.Tasks;
            using Microsoft.EntityFrameworkCore;

            public sealed class AppDb : DbContext { }

            public sealed class Bot
            {
                private readonly AppDb {|#0:_db|} = new AppDb();
                public Task SaveAsync() => _db.SaveChangesAsync();
            }

            public sealed class Archiver : IDisposable
            {
                private readonly DbConnection {|#1:_connection|};
                public Archiver(DbDataSource source) => _connection = source.OpenConnection();
                public void Dispose() { }
            }
            """,
            [
                Verifier<UndisposedSessionAnalyzer>.Diagnostic(Descriptors.ISO103SessionFieldNotDisposed, 0)
                    .WithArguments("_db", "AppDb", "Bot", "make 'Bot' implement IDisposable or IAsyncDisposable and dispose the field there"),
                Verifier<UndisposedSessionAnalyzer>.Diagnostic(Descriptors.ISO103SessionFieldNotDisposed, 1)
                    .WithArguments("_connection", "DbConnection", "Archiver", "dispose it in 'Archiver's Dispose or DisposeAsync"),
            ]);
    }

    [Fact]
    public async Task Analyze_SessionFieldsDisposedInjectedOrHandedOver_NoDiagnostic()
    {
        await Verifier<UndisposedSessionAnalyzer>.VerifyAsync("""
            using System;
            using System.Data.Common;
            using System.Threading.Tasks;
            using Microsoft.EntityFrameworkCore;

            public sealed class AppDb : DbContext { }
            namespace MyApp { public sealed class TenantSession : IDisposable { public void Close() { } public void Dispose() { } } }

            public sealed class Disposes : IAsyncDisposable
            {
                private readonly AppDb _db = new AppDb();
                private DbConnection? _connection;
                public void Open(DbDataSource source) => _connection = source.OpenConnection();
                public async ValueTask DisposeAsync() { await _db.DisposeAsync(); _connection?.Close(); }
            }

            // Injected: the container owns it.
            public sealed class Injected
            {
                private readonly AppDb _db;
                public Injected(AppDb db) => _db = db;
            }

            // Handed to someone else, who may own it now.
            public sealed class HandsOver
            {
                private readonly AppDb _db = new AppDb();
                public AppDb Detach() => _db;
            }
            """);
    }
}
