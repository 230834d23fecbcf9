using OpenQA.Selenium.Chrome;

namespace ChatServer.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium, headless, driven through Debian's chromedriver (both installed by <c>.ci/setup.d/20-chromium.sh</c>);
/// never a downloaded browser. Without them a test is skipped with the reason locally and fails under <c>CI=true</c>.
/// </summary>
internal static class Chromium
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string ChromedriverPath = "/usr/bin/chromedriver";

    public static ChromeDriver Start(string profile)
    {
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--user-data-dir=" + profile);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromedriverPath)!, Path.GetFileName(ChromedriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    public static void Require()
    {
        if (File.Exists(ChromiumPath) && File.Exists(ChromedriverPath))
        {
            return;
        }

        var reason = $"Dashboard browser test needs Debian's Chromium at {ChromiumPath} and {ChromedriverPath}; run 'source .ci/setup.d/20-chromium.sh' as root (apt-get install chromium chromium-driver).";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(reason + " CI=true, so this is a failure, not a skip.");
        }

        Assert.Skip(reason);
    }
}
