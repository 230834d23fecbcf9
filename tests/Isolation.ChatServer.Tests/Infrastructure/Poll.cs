namespace ChatServer.Tests.Infrastructure;

/// <summary>Waits for a condition the server reaches on its own schedule and offers nothing to wait on.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, string what, int timeoutMilliseconds = 20_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMilliseconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeoutMilliseconds} ms waiting until {what}.");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
