using Isolation.Redis.Internal;

namespace Isolation.Redis.Tests;

public sealed class RedisNamesTests
{
    [Fact]
    public void Escape_LookAlikeIds_NeverCollideAndNeverContainTheSeparator()
    {
        string[] ids = ["a:b", "a%3Ab", "a%253Ab", "a", "b", "a:", ":b", "a b", "ä", "%C3%A4", "node:x", "node%3Ax", "A", "a."];

        var escaped = ids.Select(RedisNames.Escape).ToList();

        Assert.Equal(ids.Length, escaped.Distinct(StringComparer.Ordinal).Count());
        Assert.All(escaped, e => Assert.DoesNotContain(':', e));
        Assert.Equal("plain-id_1.x", RedisNames.Escape("plain-id_1.x"));
    }

    [Fact]
    public void Names_AlwaysCarryThePrefix_AndPrefixesCannotRunIntoIds()
    {
        // Prefix "a" with user "b:c" must not equal prefix "a:presence:b" with user "c" (or anything else).
        var one = RedisNames.PresenceKeyFor("a", "b:c");
        var two = RedisNames.PresenceKeyFor("a:presence:b", "c");

        Assert.NotEqual(one, two);
        Assert.StartsWith("isolation:a:presence:", one, StringComparison.Ordinal);
        Assert.Equal("isolation:prod:node:node-1", RedisNames.NodeChannelFor("prod", "node-1"));
    }
}
