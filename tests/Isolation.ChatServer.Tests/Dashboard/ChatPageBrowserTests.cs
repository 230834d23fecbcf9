using ChatServer.Tests.Infrastructure;
using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;

namespace ChatServer.Tests.Dashboard;

/// <summary>The chat page in Debian's Chromium: sign in, connect, ask, see the steps and the answer.</summary>
public sealed class ChatPageBrowserTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ChatPage_SignInAndAsk_ShowsStepsAndAnswerForThatUserOnly()
    {
        Chromium.Require();
        await using var server = await TestChatServer.StartAsync(cancellationToken: Ct);
        await using var bob = await server.ConnectAsync("bob", Ct);
        var profile = Directory.CreateTempSubdirectory("chromium-profile-");
        try
        {
            using var driver = Chromium.Start(profile.FullName);
            var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(20));
            wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException));
            driver.Navigate().GoToUrl(server.Address);

            var user = driver.FindElement(By.Id("user"));
            user.Clear();
            user.SendKeys("alice");
            driver.FindElement(By.Id("connect")).Click();
            wait.Until(d => d.FindElement(By.Id("status")).Text.StartsWith("connected as alice", StringComparison.Ordinal));

            var text = wait.Until(d => d.FindElement(By.Id("text")) is { Enabled: true } input ? input : null)!;
            text.SendKeys("What is the weather in Lisbon?");
            driver.FindElement(By.Id("send-button")).Click();

            var log = wait.Until(d =>
            {
                var content = d.FindElement(By.Id("log")).Text;
                return content.Contains("completed in", StringComparison.Ordinal) ? content : null;
            })!;
            Assert.Contains("you: What is the weather in Lisbon?", log, StringComparison.Ordinal);
            Assert.Contains("calling get_weather", log, StringComparison.Ordinal);
            Assert.Contains("assistant: Here is what I found: Lisbon:", log, StringComparison.Ordinal);
        }
        finally
        {
            profile.Delete(recursive: true);
        }

        // Bob was connected the whole time and saw none of it.
        Assert.DoesNotContain(bob.All, e => e.UserId != "bob" || (e.Type != "ready" && e.RunId is not null));
    }
}
