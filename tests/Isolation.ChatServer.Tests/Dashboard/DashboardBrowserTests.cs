using ChatServer.Tests.Infrastructure;
using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;

namespace ChatServer.Tests.Dashboard;

/// <summary>
/// The dashboard page in Debian's Chromium (headless, driven by Selenium through Debian's chromedriver; never a downloaded
/// browser). Without Chromium the test is skipped with the reason locally and fails under <c>CI=true</c>.
/// </summary>
public sealed class DashboardBrowserTests
{
    private static readonly TimeSpan PageWait = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Dashboard_LiveScoreThenAProvokedViolation_PageShowsIt()
    {
        Chromium.Require();
        await using var server = await TestChatServer.StartAsync(new Dictionary<string, string?> { ["Chat:ViolationProbe"] = "true" }, Ct);
        var profile = Directory.CreateTempSubdirectory("chromium-profile-");
        try
        {
            using var driver = Chromium.Start(profile.FullName);
            driver.Manage().Window.Size = new System.Drawing.Size(1024, 768);
            driver.Navigate().GoToUrl(new Uri(server.Address, "/dashboard"));
            var wait = new WebDriverWait(driver, PageWait);

            // The page re-renders its tables on every poll: an element found just before a render is gone after it.
            wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException));

            // Loads and shows the live score (no violation yet), fed by /api/isolation.
            wait.Until(d => d.FindElement(By.Id("score")).Text == "1.0000");
            Assert.Contains("ok", driver.FindElement(By.Id("score")).GetAttribute("class"), StringComparison.Ordinal);

            // A chat run shows up in "runs by status" on a later poll.
            await using (var alice = await server.ConnectAsync("alice", Ct))
            {
                await alice.SendAsync(new { type = "chat", runId = "r", text = "What time is it?" }, Ct);
                await alice.RunEventsAsync("r", Ct);
                wait.Until(d => Cell(d, "runs", "completed") == "1");
            }

            // Provoke a real violation: the shared probe agent handed to a second user's scope.
            using (var response = await server.Http.PostAsync(new Uri("/api/diagnostics/violation", UriKind.Relative), null, Ct))
            {
                response.EnsureSuccessStatusCode();
            }

            wait.Until(d => Cell(d, "violation-kinds", "singleton_reuse") == "1");
            var score = double.Parse(driver.FindElement(By.Id("score")).GetAttribute("data-score")!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(score, 0, 0.999);
            Assert.Contains("bad", driver.FindElement(By.Id("score")).GetAttribute("class"), StringComparison.Ordinal);
            Assert.Equal("1", driver.FindElement(By.Id("violations")).Text);
            var recent = wait.Until(d => d.FindElements(By.CssSelector("#recent tr.violation")).Select(row => row.Text).ToList());
            Assert.Contains(recent, row => row.Contains("singleton_reuse", StringComparison.Ordinal) && row.Contains("ProbeAgent", StringComparison.Ordinal));

            // Every number fits its card, agent creation times (with their unit) and the long violation message included,
            // on a desktop window and on a phone-sized one.
            wait.Until(d => d.FindElement(By.Id("creation")).Text.Contains('s', StringComparison.Ordinal));
            Assert.Empty(ChatPageBrowserTests.Overflowing(driver));
            driver.Manage().Window.Size = new System.Drawing.Size(400, 800);
            wait.Until(d => ((IJavaScriptExecutor)d).ExecuteScript("return window.innerWidth;") is long width && width <= 400);
            Assert.Empty(ChatPageBrowserTests.Overflowing(driver));
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    private static string? Cell(IWebDriver driver, string table, string key)
    {
        var rows = driver.FindElements(By.CssSelector($"#{table} tr[data-key='{key}'] td"));
        return rows.Count == 2 ? rows[1].Text : null;
    }
}
