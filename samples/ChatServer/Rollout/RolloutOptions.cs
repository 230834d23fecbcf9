namespace ChatServer.Rollout;

/// <summary>
/// The per-user isolation rollout, bound from <c>Isolation:Rollout</c>. Users are placed in 100 buckets by a stable hash of
/// their id (and <see cref="Salt"/>); buckets <c>[0, EnforcePercent)</c> run in Enforce, the next <see cref="ObservePercent"/>
/// buckets in Observe, the rest Off. Raising a percentage only ever moves users up (Off → Observe → Enforce).
/// </summary>
public sealed class RolloutOptions
{
    public const string SectionName = "Isolation:Rollout";

    /// <summary>Gets or sets the share of users, 0 to 100, whose scopes run in <c>Enforce</c>.</summary>
    /// <value>The default value is 100.</value>
    public int EnforcePercent { get; set; } = 100;

    /// <summary>Gets or sets the share of users, 0 to 100 − <see cref="EnforcePercent"/>, whose scopes run in <c>Observe</c>.</summary>
    /// <value>The default value is 0.</value>
    public int ObservePercent { get; set; }

    /// <summary>Gets or sets a string mixed into the hash; change it to draw a different set of users for the same percentage.</summary>
    /// <value>The default value is empty.</value>
    public string Salt { get; set; } = string.Empty;
}
