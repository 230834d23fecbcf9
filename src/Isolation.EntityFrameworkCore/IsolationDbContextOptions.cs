using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;

namespace Isolation.EntityFrameworkCore;

/// <summary>
/// What <see cref="IsolationDbContextOptionsBuilderExtensions.UseIsolation(DbContextOptionsBuilder, Action{IsolationDbContextOptions})"/>
/// adds to a context besides the scope checks, which are always on: a run-id tag on commands, the PostgreSQL row-level-security
/// hook, and the pristine checks of pooled contexts.
/// </summary>
public sealed partial class IsolationDbContextOptions
{
    /// <summary>The PostgreSQL setting <see cref="UsePostgresRowLevelSecurity"/> uses when none is given.</summary>
    public const string DefaultRowLevelSecuritySetting = "app.user_id";

    private readonly List<Func<DbContext, string?>> _pristineChecks = [];

    /// <summary>
    /// Gets or sets whether every command starts with a SQL comment naming the run id of the scope that runs it
    /// (<c>-- isolation.run_id: …</c>), so the database's own logs can be matched to a request. Only the run id is written,
    /// never the user id; a run id with characters outside letters, digits, <c>-</c>, <c>_</c>, <c>.</c> and <c>:</c> is not written.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool TagCommandsWithRunId { get; set; }

    /// <summary>
    /// Gets the PostgreSQL setting that holds the scope's user id on every connection the context opens, or <see langword="null"/>
    /// when the row-level-security hook is off. Set it with <see cref="UsePostgresRowLevelSecurity"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (off).</value>
    public string? RowLevelSecuritySetting { get; private set; }

    /// <summary>
    /// Gets or sets whether a pooled context must come back with no tracked entity at all. When <see langword="false"/>, only
    /// unsaved changes (entities added, deleted or marked modified and never saved) make a returned context dirty; entities
    /// tracked by ordinary queries do not.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool RequireEmptyChangeTracker { get; set; }

    internal IReadOnlyList<Func<DbContext, string?>> PristineChecks => _pristineChecks;

    /// <summary>Set by the pool of <c>AddPooledDbContextChecks</c>, which takes dirty contexts out at the next rent.</summary>
    internal bool DiscardsDirtyContexts { get; set; }

    /// <summary>
    /// Turns on the PostgreSQL row-level-security hook: every time the context opens its connection it runs
    /// <c>SELECT set_config(setting, user id, false)</c> with the current scope's user id (an empty string outside any scope),
    /// and before it closes the connection it sets the setting back to an empty string, so a physical connection that goes
    /// back to the connection pool never carries one user's identity to the next. A policy reads it with
    /// <c>current_setting('app.user_id', true)</c>.
    /// </summary>
    /// <param name="setting">A PostgreSQL custom setting name: two or more identifiers joined by dots, e.g. <c>app.user_id</c>.</param>
    /// <returns>These options, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="setting"/> is not a custom setting name.</exception>
    public IsolationDbContextOptions UsePostgresRowLevelSecurity(string setting = DefaultRowLevelSecuritySetting)
    {
        if (string.IsNullOrEmpty(setting) || !SettingName().IsMatch(setting))
        {
            throw new ArgumentException(
                $"'{setting}' is not a PostgreSQL custom setting name. Use two or more identifiers (letters, digits, underscores, not starting with a digit) joined by dots, such as '{DefaultRowLevelSecuritySetting}', and read it in the policy with current_setting('{DefaultRowLevelSecuritySetting}', true).",
                nameof(setting));
        }

        RowLevelSecuritySetting = setting;
        return this;
    }

    /// <summary>
    /// Adds a check run on every pooled context when it goes back to its pool, for tenant state that a
    /// <see cref="TenantStateAttribute"/> cannot describe. The check returns <see langword="null"/> when the context is clean,
    /// or the reason it is dirty (never a value read from the context: the reason is logged).
    /// </summary>
    /// <param name="check">The check; it must not throw and must not run queries.</param>
    /// <returns>These options, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="check"/> is <see langword="null"/>.</exception>
    public IsolationDbContextOptions AddPristineCheck(Func<DbContext, string?> check)
    {
        ArgumentNullException.ThrowIfNull(check);
        _pristineChecks.Add(check);
        return this;
    }

    internal void CopyFrom(IsolationDbContextOptions other)
    {
        TagCommandsWithRunId = other.TagCommandsWithRunId;
        RowLevelSecuritySetting = other.RowLevelSecuritySetting;
        RequireEmptyChangeTracker = other.RequireEmptyChangeTracker;
        _pristineChecks.AddRange(other._pristineChecks);
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", RegexOptions.CultureInvariant)]
    private static partial Regex SettingName();
}
