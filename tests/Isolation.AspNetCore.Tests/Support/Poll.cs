namespace Isolation.AspNetCore.Tests.Support;

/// <summary>Waits for an external effect (a connection leaving the registry, a scope being disposed) with a bounded timeout.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"Timed out after {timeoutMs} ms waiting for: {what}");
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
