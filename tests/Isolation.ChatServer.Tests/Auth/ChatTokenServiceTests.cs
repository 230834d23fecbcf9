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
    public async Task ValidateAsync_IssuedToken_ReturnsItsUser()
    {
        var tokens = Create(new FakeTimeProvider());
        Assert.Equal("alice", await tokens.ValidateAsync(tokens.Issue("alice")));
    }

    [Fact]
    public void Issue_AnyUser_IsAJwtWithTheUserInSubAndThisServerAsIssuer()
    {
        var parts = Create(new FakeTimeProvider()).Issue("alice").Split('.');

        Assert.Equal(3, parts.Length);
        var header = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0]));
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1]));
        Assert.Contains("\"alg\":\"HS256\"", header, StringComparison.Ordinal);
        Assert.Contains("\"sub\":\"alice\"", payload, StringComparison.Ordinal);
        Assert.Contains("\"iss\":\"ChatServer\"", payload, StringComparison.Ordinal);
        Assert.Contains("\"exp\":", payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_PayloadChangedToAnotherUser_Rejected()
    {
        var tokens = Create(new FakeTimeProvider());
        var parts = tokens.Issue("alice").Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("alice", "bob", StringComparison.Ordinal);
        Assert.Null(await tokens.ValidateAsync(parts[0] + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload)) + "." + parts[2]));
    }

    [Fact]
    public async Task ValidateAsync_SignatureRemoved_Rejected()
    {
        var tokens = Create(new FakeTimeProvider());
        var parts = tokens.Issue("alice").Split('.');
        var unsigned = Base64Url.EncodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}"u8) + "." + parts[1] + ".";
        Assert.Null(await tokens.ValidateAsync(unsigned));
    }

    [Fact]
    public async Task ValidateAsync_SignedWithAnotherKey_Rejected()
    {
        var time = new FakeTimeProvider();
        var other = new ChatTokenService(Options.Create(new ChatAuthOptions { SigningKey = Convert.ToBase64String(new byte[32]) }), time);
        Assert.Null(await Create(time).ValidateAsync(other.Issue("alice")));
    }

    [Fact]
    public async Task ValidateAsync_AfterLifetime_Rejected()
    {
        var time = new FakeTimeProvider();
        var tokens = Create(time, TimeSpan.FromHours(1));
        var token = tokens.Issue("alice");

        time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal("alice", await tokens.ValidateAsync(token));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(await tokens.ValidateAsync(token));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("no-dot")]
    [InlineData(".")]
    [InlineData("abc.")]
    [InlineData("a.b.c")]
    [InlineData("!!!.???")]
    public async Task ValidateAsync_Malformed_Rejected(string? token)
    {
        Assert.Null(await Create(new FakeTimeProvider()).ValidateAsync(token));
    }

    [Theory]
    [InlineData(8, "Chat:Auth:SigningKey has 8 bytes")]
    [InlineData(-1, "Chat:Auth:SigningKey is not base64")]
    public void Constructor_BadKey_ThrowsNamingTheSettingAndTheFix(int bytes, string message)
    {
        var key = bytes < 0 ? "not base64!" : Convert.ToBase64String(new byte[bytes]);
        var error = Assert.Throws<OptionsValidationException>(() =>
            new ChatTokenService(Options.Create(new ChatAuthOptions { SigningKey = key }), TimeProvider.System));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_ZeroLifetime_Fails()
    {
        var result = new ChatAuthOptionsValidator().Validate(null, new ChatAuthOptions { TokenLifetime = TimeSpan.Zero });
        Assert.True(result.Failed);
        Assert.Contains("Chat:Auth:TokenLifetime is 00:00:00; it must be positive", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Constructor_NoKey_EphemeralKeyStillValidates()
    {
        var tokens = new ChatTokenService(Options.Create(new ChatAuthOptions()), TimeProvider.System);
        Assert.True(tokens.IsEphemeralKey);
        Assert.Equal("alice", await tokens.ValidateAsync(tokens.Issue("alice")));
    }

    [Theory]
    [InlineData("a|b")]
    [InlineData("   ")]
    [InlineData("tab\there")]
    public void Issue_InvalidUserName_ThrowsArgumentException(string userId)
    {
        Assert.ThrowsAny<ArgumentException>(() => Create(new FakeTimeProvider()).Issue(userId));
    }

    [Fact]
    public void ValidateUserId_HugeName_MessageQuotesOnlyItsStart()
    {
        var error = Assert.Throws<ArgumentException>(() => ChatTokenService.ValidateUserId(new string('x', 1_000_000)));
        Assert.Contains("User name 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' (1000000 characters) is not accepted", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 200, error.Message.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static ChatTokenService Create(TimeProvider time, TimeSpan? lifetime = null) =>
        new(Options.Create(new ChatAuthOptions { SigningKey = Key, TokenLifetime = lifetime ?? TimeSpan.FromHours(12) }), time);
}
