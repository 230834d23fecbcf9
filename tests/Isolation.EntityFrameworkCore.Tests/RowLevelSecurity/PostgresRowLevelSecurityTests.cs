using Isolation.EntityFrameworkCore.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Isolation.EntityFrameworkCore.Tests.RowLevelSecurity;

/// <summary>
/// The row-level-security hook against a real PostgreSQL policy, on one pooled physical connection (Max Pool Size=1, and
/// No Reset On Close so Npgsql itself does not discard session state) that serves alice and bob in turn.
/// </summary>
public sealed class PostgresRowLevelSecurityTests : IAsyncLifetime
{
    private readonly string _schema = PostgresTestDatabase.UniqueName("iso_ef_rls");
    private string _connectionString = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _connectionString = new NpgsqlConnectionStringBuilder(PostgresTestDatabase.ConnectionString())
        {
            ApplicationName = _schema,
            Pooling = true,
            MaxPoolSize = 1,
            NoResetOnClose = true,
            SearchPath = _schema,
        }.ConnectionString;

        // The test role owns the table, and owners bypass policies unless the table forces them.
        await PostgresTestDatabase.ExecuteAsync($"""
            CREATE SCHEMA {_schema};
            CREATE TABLE {_schema}.notes (id serial PRIMARY KEY, owner text NOT NULL, text text NOT NULL);
            INSERT INTO {_schema}.notes (owner, text) VALUES ('alice', 'a1'), ('alice', 'a2'), ('bob', 'b1'), ('bob', 'b2'), ('bob', 'b3');
            ALTER TABLE {_schema}.notes ENABLE ROW LEVEL SECURITY;
            ALTER TABLE {_schema}.notes FORCE ROW LEVEL SECURITY;
            CREATE POLICY owner_only ON {_schema}.notes USING (owner = current_setting('app.user_id', true));
            """, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_connectionString.Length > 0)
        {
            await PostgresTestDatabase.ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE", CancellationToken.None);
        }
    }

    [Fact]
    public async Task UsePostgresRowLevelSecurity_PooledConnectionSwitchingUsers_EachSeesOnlyOwnRowsAndTheSettingIsClearedOnClose()
    {
        await using var provider = Services(rowLevelSecurity: true);
        var scopes = provider.GetRequiredService<IIsolationScopeFactory>();
        var monitor = provider.GetRequiredService<IsolationMonitor>();
        var backends = new HashSet<int>();
        for (var round = 0; round < 3; round++)
        {
            foreach (var (user, expected) in new[] { ("alice", 2), ("bob", 3) })
            {
                await using var scope = scopes.CreateScope(new UserExecutionContext(user));
                var db = scope.Services.GetRequiredService<RlsDb>();
                var notes = await db.Notes.AsNoTracking().ToListAsync(Ct);
                Assert.Equal(expected, notes.Count);
                Assert.All(notes, n => Assert.Equal(user, n.Owner));
                backends.Add(await db.Database.SqlQueryRaw<int>("SELECT pg_backend_pid() AS \"Value\"").SingleAsync(Ct));
            }

            // Between requests the one physical connection sits in Npgsql's pool: the user id is gone from it.
            await using var raw = new NpgsqlConnection(_connectionString);
            await raw.OpenAsync(Ct);
            await using var command = new NpgsqlCommand("SELECT coalesce(current_setting('app.user_id', true), ''), (SELECT count(*) FROM notes), pg_backend_pid()", raw);
            await using var reader = await command.ExecuteReaderAsync(Ct);
            Assert.True(await reader.ReadAsync(Ct));
            Assert.Equal("", reader.GetString(0));
            Assert.Equal(0, reader.GetInt64(1));
            backends.Add(reader.GetInt32(2));
        }

        Assert.Single(backends);
        Assert.Equal(0, monitor.TotalViolations);
    }

    [Fact]
    public async Task UsePostgresRowLevelSecurity_100ConcurrentRequestsOnAPoolOf16Contexts_EachSeesOnlyItsUsersRows()
    {
        const int Requests = 100;
        const int Users = 10;
        var values = string.Join(", ", Enumerable.Range(0, Users).SelectMany(u => Enumerable.Range(0, u + 1).Select(n => $"('user-{u}', 'n{n}')")));
        await PostgresTestDatabase.ExecuteAsync($"""
            ALTER TABLE {_schema}.notes NO FORCE ROW LEVEL SECURITY;
            INSERT INTO {_schema}.notes (owner, text) VALUES {values};
            ALTER TABLE {_schema}.notes FORCE ROW LEVEL SECURITY;
            """, Ct);
        var connectionString = new NpgsqlConnectionStringBuilder(_connectionString) { MaxPoolSize = 8 }.ConnectionString;
        await using var provider = Services(rowLevelSecurity: true, connectionString, poolSize: 16);
        var scopes = provider.GetRequiredService<IIsolationScopeFactory>();
        var monitor = provider.GetRequiredService<IsolationMonitor>();

        async Task<(string User, List<RlsNote> Notes)> RequestAsync(int i)
        {
            var user = "user-" + (i % Users);
            await using var scope = scopes.CreateScope(new UserExecutionContext(user));
            var db = scope.Services.GetRequiredService<RlsDb>();
            return (user, await db.Notes.AsNoTracking().ToListAsync(Ct));
        }

        var tasks = new Task<(string User, List<RlsNote> Notes)>[Requests];
        for (var i = 0; i < Requests; i++)
        {
            var n = i;
            tasks[i] = Task.Run(() => RequestAsync(n), Ct);
        }

        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(90), Ct);
        Assert.All(results, r =>
        {
            Assert.Equal(int.Parse(r.User["user-".Length..], System.Globalization.CultureInfo.InvariantCulture) + 1, r.Notes.Count);
            Assert.All(r.Notes, n => Assert.Equal(r.User, n.Owner));
        });
        Assert.Equal(0, monitor.TotalViolations);
    }

    [Fact]
    public async Task UsePostgresRowLevelSecurity_Off_PooledConnectionKeepsTheLastUserSetByHand()
    {
        // The bug the hook exists for: a session setting made in one request is still there for the next one.
        await using var provider = Services(rowLevelSecurity: false);
        var scopes = provider.GetRequiredService<IIsolationScopeFactory>();
        await using (var scope = scopes.CreateScope(new UserExecutionContext("alice")))
        {
            var db = scope.Services.GetRequiredService<RlsDb>();
            await db.Database.OpenConnectionAsync(Ct);
            await db.Database.ExecuteSqlRawAsync("SELECT set_config('app.user_id', 'alice', false)", Ct);
            await db.Database.CloseConnectionAsync();
        }

        await using (var scope = scopes.CreateScope(new UserExecutionContext("bob")))
        {
            var notes = await scope.Services.GetRequiredService<RlsDb>().Notes.AsNoTracking().ToListAsync(Ct);
            Assert.Equal(2, notes.Count);
            Assert.All(notes, n => Assert.Equal("alice", n.Owner));
        }
    }

    [Fact]
    public async Task UsePostgresRowLevelSecurity_OutsideAnyScope_SeesNoRowAndIsReported()
    {
        await using var provider = Services(rowLevelSecurity: true);
        var monitor = provider.GetRequiredService<IsolationMonitor>();
        using (var scope = provider.CreateScope())
        {
            Assert.Empty(await scope.ServiceProvider.GetRequiredService<RlsDb>().Notes.ToListAsync(Ct));
        }

        Assert.Equal(1, monitor.GetViolationCount(ViolationKind.CrossScopeAccess));
    }

    private ServiceProvider Services(bool rowLevelSecurity, string? connectionString = null, int poolSize = 1)
    {
        var services = new ServiceCollection();
        services.AddIsolation(o => o.Mode = IsolationMode.Enforce);
        services.AddDbContextPool<RlsDb>(o => o.UseNpgsql(connectionString ?? _connectionString).UseIsolation(i =>
        {
            if (rowLevelSecurity)
            {
                i.UsePostgresRowLevelSecurity();
            }
        }), poolSize);
        services.AddPooledDbContextChecks<RlsDb>();
        return services.BuildServiceProvider();
    }

    public sealed class RlsNote
    {
        public int Id { get; set; }

        public string Owner { get; set; } = "";

        public string Text { get; set; } = "";
    }

    public sealed class RlsDb(DbContextOptions<RlsDb> options) : DbContext(options)
    {
        public DbSet<RlsNote> Notes => Set<RlsNote>();

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            var note = modelBuilder.Entity<RlsNote>().ToTable("notes");
            note.Property(n => n.Id).HasColumnName("id");
            note.Property(n => n.Owner).HasColumnName("owner");
            note.Property(n => n.Text).HasColumnName("text");
        }
    }
}
