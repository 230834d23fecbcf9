using System.Buffers.Text;
using System.Text;
using ChatServer.Auth;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ChatServer.Tests.Auth;

public sealed class ChatTokenServiceTests
{
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public void TryValidate_IssuedToken_ReturnsItsUser()
    {
        var tokens = Create(new FakeTimeProvider());
        Assert.True(tokens.TryValidate(tokens.Issue("alice"), out var user));
        Assert.Equal("alice", user);
    }

    [Fact]
    public void TryValidate_PayloadChangedToAnotherUser_Rejected()
    {
        var tokens = Create(new FakeTimeProvider());
        var parts = tokens.Issue("alice").Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0])).Replace("alice", "bob", StringComparison.Ordinal);
        Assert.False(tokens.TryValidate(Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload)) + "." + parts[1], out _));
    }

    [Fact]
    public void DefaultConversationId_SameKeyAndUser_SameIdOtherwiseAnother()
    {
        var time = new FakeTimeProvider();
        var id = Create(time).DefaultConversationId("alice");
        var otherKey = new ChatTokenService(Options.Create(new ChatAuthOptions { SigningKey = Convert.ToBase64String(new byte[32]) }), time);

        Assert.Equal(id, Create(time).DefaultConversationId("alice"));
        Assert.Matches("^main-[A-Za-z0-9_-]{22}$", id);
        Assert.NotEqual(id, Create(time).DefaultConversationId("bob"));
        Assert.NotEqual(id, otherKey.DefaultConversationId("alice"));
        Assert.DoesNotContain("alice", id, StringComparison.Ordinal);
    }

    [Fact]
    public void TryValidate_SignedWithAnotherKey_Rejected()
    {
        var time = new FakeTimeProvider();
        var other = new ChatTokenService(Options.Create(new ChatAuthOptions { SigningKey = Convert.ToBase64String(new byte[32]) }), time);
        Assert.False(Create(time).TryValidate(other.Issue("alice"), out _));
    }

    [Fact]
    public void TryValidate_AfterLifetime_Rejected()
    {
        var time = new FakeTimeProvider();
        var tokens = Create(time, TimeSpan.FromHours(1));
        var token = tokens.Issue("alice");

        time.Advance(TimeSpan.FromMinutes(59));
        Assert.True(tokens.TryValidate(token, out _));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(tokens.TryValidate(token, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("no-dot")]
    [InlineData(".")]
    [InlineData("abc.")]
    [InlineData("!!!.???")]
    public void TryValidate_Malformed_Rejected(string? token)
    {
        Assert.False(Create(new FakeTimeProvider()).TryValidate(token, out var user));
        Assert.Null(user);
    }

    [Fact]
    public void Constructor_ShortKey_ThrowsNamingTheSettingAndTheFix()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            new ChatTokenService(Options.Create(new ChatAuthOptions { SigningKey = Convert.ToBase64String(new byte[8]) }), TimeProvider.System));
        Assert.Contains("Chat:Auth:SigningKey has 8 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NoKey_EphemeralKeyStillValidates()
    {
        var tokens = new ChatTokenService(Options.Create(new ChatAuthOptions()), TimeProvider.System);
        Assert.True(tokens.IsEphemeralKey);
        Assert.True(tokens.TryValidate(tokens.Issue("alice"), out _));
    }

    [Theory]
    [InlineData("a|b")]
    [InlineData("   ")]
    [InlineData("tab\there")]
    public void Issue_InvalidUserName_ThrowsArgumentException(string userId)
    {
        Assert.ThrowsAny<ArgumentException>(() => Create(new FakeTimeProvider()).Issue(userId));
    }

    private static ChatTokenService Create(TimeProvider time, TimeSpan? lifetime = null) =>
        new(Options.Create(new ChatAuthOptions { SigningKey = Key, TokenLifetime = lifetime ?? TimeSpan.FromHours(12) }), time);
}
