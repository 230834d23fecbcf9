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

            // A refused name: the page shows what the server's ProblemDetails says.
            var user = driver.FindElement(By.Id("user"));
            user.Clear();
            user.SendKeys("a|b");
            driver.FindElement(By.Id("connect")).Click();
            wait.Until(d => d.FindElement(By.Id("log")).Text.Contains("sign-in failed: User name 'a|b' (3 characters) is not accepted", StringComparison.Ordinal));

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

            // A clean run's log is numbered without gaps, the answer included, and nothing is left waiting.
            var numbers = SequenceNumbers(log);
            Assert.True(numbers.Count >= 6, log);
            Assert.Equal(Enumerable.Range(numbers[0], numbers.Count), numbers);
            Assert.Empty(driver.FindElements(By.CssSelector("#log .waiting")));
            Assert.Empty(Overflowing(driver));

            // A hanging run shows that the page is waiting for it.
            text.SendKeys("What time is it? #hang");
            driver.FindElement(By.Id("send-button")).Click();
            var waiting = wait.Until(d => d.FindElements(By.CssSelector("#log .waiting")).FirstOrDefault(e => e.Displayed));
            Assert.StartsWith("waiting for web-", waiting!.Text.TrimStart('⏳', ' '), StringComparison.Ordinal);
            wait.Until(d => d.FindElement(By.CssSelector("#log .waiting")).Text.EndsWith(" 1 s", StringComparison.Ordinal));
        }
        finally
        {
            profile.Delete(recursive: true);
        }

        // Bob was connected the whole time and saw none of it.
        Assert.DoesNotContain(bob.All, e => e.UserId != "bob" || (e.Type != "ready" && e.RunId is not null));
    }

    /// <summary>The <c>#n</c> of every numbered line (<c>[run-id #n] …</c>), in the order the log shows them.</summary>
    private static List<int> SequenceNumbers(string log) =>
        System.Text.RegularExpressions.Regex.Matches(log, @"\[[^\]#]+ #(\d+)\]")
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

    /// <summary>The cards (and card values) whose content is wider than they are.</summary>
    internal static IReadOnlyList<string> Overflowing(IWebDriver driver) =>
        ((IJavaScriptExecutor)driver).ExecuteScript(
            "return [...document.querySelectorAll('.card, .card .value')].filter(e => e.scrollWidth > e.clientWidth)" +
            ".map(e => (e.id || e.className) + ': ' + e.scrollWidth + ' > ' + e.clientWidth + ' ' + e.textContent.slice(0, 60));") is IEnumerable<object> found
            ? found.Select(o => o.ToString()!).ToList()
            : [];
}
