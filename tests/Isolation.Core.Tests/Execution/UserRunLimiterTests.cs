using Isolation.Execution;

namespace Isolation.Tests.Execution;

public sealed class UserRunLimiterTests
{
    [Fact]
    public void Release_LastSlot_EntryKeptForTheUsersNextRun()
    {
        var limiter = new UserRunLimiter(permits: 2, queueLimit: 0);

        var first = limiter.TryAcquire("alice");
        limiter.Release(first!);
        var second = limiter.TryAcquire("alice");

        Assert.Same(first, second);
        Assert.Equal(1, limiter.UserCount);
        limiter.Release(second!);
        Assert.Equal(0, limiter.UserCount);
        Assert.Equal(1, limiter.EntryCount);
    }

    [Fact]
    public void RemoveIdle_IdleEntry_RetiredAndNextRunTakesANewOne()
    {
        var limiter = new UserRunLimiter(permits: 1, queueLimit: 0);
        var first = limiter.TryAcquire("alice");
        limiter.Release(first!);

        limiter.RemoveIdle();

        Assert.Equal(0, limiter.EntryCount);
        Assert.True(first!.Retired);
        var next = limiter.TryAcquire("alice");
        Assert.NotSame(first, next);
        Assert.Null(limiter.TryAcquire("alice"));
    }

    [Fact]
    public async Task RemoveIdle_EntryHeldOrWaitedFor_Kept()
    {
        var limiter = new UserRunLimiter(permits: 1, queueLimit: 1);
        var held = limiter.TryAcquire("alice");
        var waiting = limiter.AcquireAsync("alice", TestContext.Current.CancellationToken);

        limiter.RemoveIdle();

        Assert.Equal(1, limiter.EntryCount);
        Assert.False(waiting.IsCompleted);
        limiter.Release(held!);
        Assert.Same(held, await waiting);
        limiter.Release(held!);
        limiter.RemoveIdle();
        Assert.Equal(0, limiter.EntryCount);
    }
}
