namespace Isolation.Tests.Scopes;

public sealed class UserExecutionContextTests
{
    [Fact]
    public void Constructor_AllIds_KeepsThem()
    {
        var context = new UserExecutionContext("alice", "conn-1", "run-1", "thread-1");

        Assert.Equal("alice", context.UserId);
        Assert.Equal("conn-1", context.ConnectionId);
        Assert.Equal("run-1", context.RunId);
        Assert.Equal("thread-1", context.ThreadId);
    }

    [Fact]
    public void Constructor_NoRunId_GeneratesUniqueRunIds()
    {
        var first = new UserExecutionContext("alice");
        var second = new UserExecutionContext("alice");

        Assert.False(string.IsNullOrEmpty(first.RunId));
        Assert.NotEqual(first.RunId, second.RunId);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Constructor_ManyRunIdsOnManyThreads_AllUniqueHex32()
    {
        var ids = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            Enumerable.Range(0, 20_000).Select(_ => new UserExecutionContext("alice").RunId).ToArray())));

        var all = ids.SelectMany(i => i).ToArray();
        Assert.Equal(all.Length, all.Distinct(StringComparer.Ordinal).Count());
        Assert.All(all, id => Assert.Matches("^[0-9a-f]{32}$", id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t")]
    public void Constructor_EmptyUserId_ThrowsWithGuidance(string userId)
    {
        var ex = Assert.Throws<ArgumentException>(() => new UserExecutionContext(userId));

        Assert.Equal("userId", ex.ParamName);
        Assert.Contains("must not be empty", ex.Message, StringComparison.Ordinal);
        Assert.Contains("anonymous", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NullUserId_ThrowsArgumentNull()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => new UserExecutionContext(null!));
        Assert.Equal("userId", ex.ParamName);
    }

    [Fact]
    public void Constructor_TooLongId_ThrowsNamingTheLimit()
    {
        var ex = Assert.Throws<ArgumentException>(() => new UserExecutionContext(new string('a', UserExecutionContext.MaxIdLength + 1)));

        Assert.Contains("257 characters", ex.Message, StringComparison.Ordinal);
        Assert.Contains("at most 256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ControlCharacter_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new UserExecutionContext("alice", connectionId: "c\n1"));

        Assert.Equal("connectionId", ex.ParamName);
        Assert.Contains("U+000A", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WhiteSpaceOptionalId_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new UserExecutionContext("alice", threadId: " "));
        Assert.Equal("threadId", ex.ParamName);
    }

    [Fact]
    public void Equals_SameIds_AreEqualWithSameHash()
    {
        var a = new UserExecutionContext("alice", "c", "r", "t");
        var b = new UserExecutionContext("alice", "c", "r", "t");

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new UserExecutionContext("bob", "c", "r", "t"));
    }

    [Fact]
    public void WithRunId_KeepsUserConnectionAndThread()
    {
        var context = new UserExecutionContext("alice", "c", "r", "t");

        var next = context.WithRunId("r2");

        Assert.Equal(("alice", "c", "r2", "t"), (next.UserId, next.ConnectionId, next.RunId, next.ThreadId));
    }

    [Fact]
    public void ToString_NamesUserRunAndConnection()
    {
        Assert.Equal("user 'alice' (run r, connection c)", new UserExecutionContext("alice", "c", "r").ToString());
        Assert.Equal("user 'alice' (run r)", new UserExecutionContext("alice", runId: "r").ToString());
    }
}
