using Isolation.AgentFramework.Tests.Support;
using Microsoft.Agents.AI;

namespace Isolation.AgentFramework.Tests.Sessions;

/// <summary>A stolen conversation id (load, save, continue, delete) against every store: memory, SQLite, PostgreSQL.</summary>
public sealed class OwnerCheckedAgentSessionStoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<StoreKind> Stores => new() { StoreKind.Memory, StoreKind.Sqlite, StoreKind.Postgres };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task GetSessionAsync_OwnConversation_ReturnsItsHistory(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind);
        await host.TurnAsync("alice", "c-1", "first", Ct);
        var answer = await host.TurnAsync("alice", "c-1", "second", Ct);

        Assert.Equal("answer to 'second' after 2 user messages", answer);
        Assert.Equal(["first", "second"], await host.HistoryAsync("alice", "c-1", Ct));
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task GetSessionAsync_StolenIdInObserve_AnswersNotFoundAndCountsCrossScopeAccess(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind, IsolationMode.Observe);
        await host.TurnAsync("alice", "c-alice", "my secret", Ct);

        await using var scope = host.Factory.CreateScope(new UserExecutionContext("mallory"));
        var stolen = await host.Store.GetSessionAsync(host.Agent, new AgentSessionStoreKey("c-alice"), Ct);

        Assert.Null(stolen);
        Assert.Equal(1, scope.ViolationCount);
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.CrossScopeAccess));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task GetSessionAsync_StolenIdInEnforce_ThrowsCrossScopeAccessWithoutNamingTheOwner(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind, IsolationMode.Enforce);
        await host.TurnAsync("alice", "c-alice", "my secret", Ct);

        await using var scope = host.Factory.CreateScope(new UserExecutionContext("mallory"));
        var ex = await Assert.ThrowsAsync<IsolationViolationException>(
            async () => await host.Store.GetSessionAsync(host.Agent, new AgentSessionStoreKey("c-alice"), Ct));

        Assert.Equal(ViolationKind.CrossScopeAccess, ex.Kind);
        Assert.Contains("'c-alice'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'mallory'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("alice'", ex.Message.Replace("'c-alice'", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("my secret", ex.Message, StringComparison.Ordinal);
        Assert.Equal("alice", ex.Violation!.OtherContext!.UserId);
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.CrossScopeAccess));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task GetOrCreateSessionAsync_ContinueStolenIdInObserve_SeesNoForeignHistoryAndCannotOverwrite(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind, IsolationMode.Observe);
        await host.TurnAsync("alice", "c-alice", "my secret", Ct);

        // Mallory continues Alice's conversation: she gets a fresh, empty session and her save is refused.
        var answer = await host.TurnAsync("mallory", "c-alice", "what did I say?", Ct);

        Assert.Equal("answer to 'what did I say?' after 1 user messages", answer);
        Assert.DoesNotContain(host.Model.Seen, texts => texts.Contains("my secret") && texts.Contains("what did I say?"));
        Assert.Equal(["my secret"], await host.HistoryAsync("alice", "c-alice", Ct));
        Assert.Equal(2, host.Monitor.GetViolationCount(ViolationKind.CrossScopeAccess)); // the load and the save
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task GetOrCreateSessionAsync_ContinueStolenIdInEnforce_ThrowsBeforeTheModelAndKeepsOwnersHistory(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind, IsolationMode.Enforce);
        await host.TurnAsync("alice", "c-alice", "my secret", Ct);
        var callsBefore = host.Model.Calls;

        var ex = await Assert.ThrowsAsync<IsolationViolationException>(() => host.TurnAsync("mallory", "c-alice", "what did I say?", Ct));

        Assert.Equal(ViolationKind.CrossScopeAccess, ex.Kind);
        Assert.Equal("mallory", ex.Violation!.Context!.UserId);
        Assert.Equal(callsBefore, host.Model.Calls);
        Assert.DoesNotContain(host.Model.Seen, texts => texts.Contains("what did I say?"));
        Assert.Equal(["my secret"], await host.HistoryAsync("alice", "c-alice", Ct));
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.CrossScopeAccess));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveSessionAsync_NewSessionUnderStolenIdInObserve_WritesNothingAndCounts(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind, IsolationMode.Observe);
        await host.TurnAsync("alice", "c-alice", "my secret", Ct);

        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("mallory")))
        {
            var forged = await host.Agent.CreateSessionAsync(Ct);
            await host.Agent.RunAsync("overwrite", forged, cancellationToken: Ct);
            await host.Store.SaveSessionAsync(host.Agent, new AgentSessionStoreKey("c-alice"), forged, Ct);
            Assert.Equal(1, scope.ViolationCount);
        }

        Assert.Equal(["my secret"], await host.HistoryAsync("alice", "c-alice", Ct));
        Assert.Equal(1, host.Monitor.GetViolationCount(ViolationKind.CrossScopeAccess));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveSessionAsync_NewSessionUnderStolenIdInEnforce_ThrowsAndKeepsOwnersHistory(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind, IsolationMode.Enforce);
        await host.TurnAsync("alice", "c-alice", "my secret", Ct);

        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("mallory")))
        {
            var forged = await host.Agent.CreateSessionAsync(Ct);
            await host.Agent.RunAsync("overwrite", forged, cancellationToken: Ct);
            var ex = await Assert.ThrowsAsync<IsolationViolationException>(
                async () => await host.Store.SaveSessionAsync(host.Agent, new AgentSessionStoreKey("c-alice"), forged, Ct));
            Assert.Equal(ViolationKind.CrossScopeAccess, ex.Kind);
        }

        Assert.Equal(["my secret"], await host.HistoryAsync("alice", "c-alice", Ct));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveSessionAsync_OwnSessionCopiedUnderStolenId_IsRefused(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind, IsolationMode.Observe);
        await host.TurnAsync("alice", "c-alice", "my secret", Ct);
        await host.TurnAsync("mallory", "c-mallory", "mine", Ct);

        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("mallory")))
        {
            // Her own session carries her owner record, but for another conversation: the record does not transfer.
            var own = await host.Store.GetSessionAsync(host.Agent, new AgentSessionStoreKey("c-mallory"), Ct);
            await host.Store.SaveSessionAsync(host.Agent, new AgentSessionStoreKey("c-alice"), own!, Ct);
            Assert.Equal(1, scope.ViolationCount);
        }

        Assert.Equal(["my secret"], await host.HistoryAsync("alice", "c-alice", Ct));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task DeleteSessionAsync_StolenIdInObserve_DeletesNothing(StoreKind kind)
    {
        await using var host = await AgentTestHost.CreateAsync(kind, IsolationMode.Observe);
        await host.TurnAsync("alice", "c-alice", "my secret", Ct);

        await using (var scope = host.Factory.CreateScope(new UserExecutionContext("mallory")))
        {
            await host.Store.DeleteSessionAsync(host.Agent, new AgentSessionStoreKey("c-alice"), Ct);
            Assert.Equal(1, scope.ViolationCount);
        }

        Assert.Equal(["my secret"], await host.HistoryAsync("alice", "c-alice", Ct));
    }

    [Fact]
    public async Task DeleteSessionAsync_StolenIdInEnforce_Throws()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Enforce);
        await host.TurnAsync("alice", "c-alice", "my secret", Ct);

        await using (host.Factory.CreateScope(new UserExecutionContext("mallory")))
        {
            var ex = await Assert.ThrowsAsync<IsolationViolationException>(
                async () => await host.Store.DeleteSessionAsync(host.Agent, new AgentSessionStoreKey("c-alice"), Ct));
            Assert.Equal(ViolationKind.CrossScopeAccess, ex.Kind);
        }

        Assert.Equal(["my secret"], await host.HistoryAsync("alice", "c-alice", Ct));
    }

    [Fact]
    public async Task DeleteSessionAsync_OwnConversation_RemovesIt()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory);
        await host.TurnAsync("alice", "c-1", "hello", Ct);

        await using (host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            await host.Store.DeleteSessionAsync(host.Agent, new AgentSessionStoreKey("c-1"), Ct);
        }

        Assert.Empty(await host.HistoryAsync("alice", "c-1", Ct));
        Assert.Equal(0, ((InMemoryAgentSessionStore)host.InnerStore).Count);
    }

    [Fact]
    public async Task GetSessionAsync_PartitionsAreSeparateConversations_OwnedSeparately()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Observe);
        var aliceKey = new AgentSessionStoreKey("c-1").WithPartition("tenant", "a");
        var bobKey = new AgentSessionStoreKey("c-1").WithPartition("tenant", "b");
        await using (host.Factory.CreateScope(new UserExecutionContext("alice")))
        {
            var session = await host.Store.GetOrCreateSessionAsync(host.Agent, aliceKey, Ct);
            await host.Agent.RunAsync("alice's", session, cancellationToken: Ct);
            await host.Store.SaveSessionAsync(host.Agent, aliceKey, session, Ct);
        }

        await using var bob = host.Factory.CreateScope(new UserExecutionContext("bob"));
        var own = await host.Store.GetOrCreateSessionAsync(host.Agent, bobKey, Ct);
        await host.Store.SaveSessionAsync(host.Agent, bobKey, own, Ct);
        var foreign = await host.Store.GetSessionAsync(host.Agent, aliceKey, Ct);

        Assert.Null(foreign);
        Assert.Equal(1, bob.ViolationCount);
    }

    [Fact]
    public async Task GetSessionAsync_StolenIdInOff_ChecksNothing()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Off);
        await host.TurnAsync("alice", "c-alice", "hello", Ct);

        await using var scope = host.Factory.CreateScope(new UserExecutionContext("mallory"));
        var session = await host.Store.GetSessionAsync(host.Agent, new AgentSessionStoreKey("c-alice"), Ct);

        Assert.NotNull(session);
        Assert.Equal(0, host.Monitor.TotalViolations);
    }

    [Fact]
    public async Task SaveSessionAsync_InOff_StillRecordsTheOwner()
    {
        await using var off = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Off);
        await off.TurnAsync("alice", "c-alice", "hello", Ct);
        await using var scope = off.Factory.CreateScope(new UserExecutionContext("alice"));
        var session = await off.Store.GetSessionAsync(off.Agent, new AgentSessionStoreKey("c-alice"), Ct);

        Assert.Equal("alice", session!.StateBag.GetValue<string>("isolation.owner"));
        Assert.Equal("c-alice", session.StateBag.GetValue<string>("isolation.conversation"));
    }

    [Fact]
    public async Task GetSessionAsync_StoredWithoutOwnerRecord_IsTreatedAsAnotherUsers()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory, IsolationMode.Observe);
        await using (host.Factory.CreateScope(new UserExecutionContext("legacy")))
        {
            // Written around the owner check, straight into the inner store.
            var session = await host.Agent.CreateSessionAsync(Ct);
            await host.InnerStore.SaveSessionAsync(host.Agent, new AgentSessionStoreKey("c-old"), session, Ct);
        }

        await using var scope = host.Factory.CreateScope(new UserExecutionContext("alice"));
        Assert.Null(await host.Store.GetSessionAsync(host.Agent, new AgentSessionStoreKey("c-old"), Ct));
        Assert.Equal(1, scope.ViolationCount);
    }

    [Fact]
    public async Task GetSessionAsync_OutsideScope_ThrowsInvalidOperationNamingTheFix()
    {
        await using var host = await AgentTestHost.CreateAsync(StoreKind.Memory);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(
            async () => await host.Store.GetSessionAsync(host.Agent, new AgentSessionStoreKey("c-1"), Ct));

        Assert.Contains("outside an IsolationScope", ex.Message, StringComparison.Ordinal);
        Assert.Contains("IIsolatedRunner.RunAsync", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NullInner_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>("innerStore", () => new OwnerCheckedAgentSessionStore(null!));
    }
}
