using Microsoft.Playwright;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// A real browser: Debian's <c>chromium</c> (or <c>CHROMIUM_PATH</c>) driven by Playwright; Playwright's own browser
/// download is not used. Where there is none the browser tests are skipped with the reason, unless
/// <c>DEPLOYFUNCTIONS_REQUIRE_BROWSER=1</c> (CI installs chromium and sets it): then they fail.
/// </summary>
internal static class Browser
{
    public const string Missing =
        "no Chromium on this machine: install Debian's or Ubuntu's `chromium` (apt install chromium) or set CHROMIUM_PATH to run the browser tests.";

    public static readonly string? Path = Find();

    public static bool Required => Environment.GetEnvironmentVariable("DEPLOYFUNCTIONS_REQUIRE_BROWSER") == "1";

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } configured)
        {
            return configured;
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(folder => new[] { "chromium", "chromium-browser" }.Select(name => System.IO.Path.Combine(folder, name)));
        return new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.Concat(onPath).FirstOrDefault(File.Exists);
    }

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        var path = Path ?? throw new InvalidOperationException(Missing);
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = path,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"], // root in a container has no sandbox; /dev/shm may be tiny
        });
        return (playwright, browser);
    }
}

/// <summary>A fact that needs a real browser: skipped, with the reason, where there is none (unless one is required).</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (Browser.Path is null && !Browser.Required)
        {
            Skip = Browser.Missing;
        }
    }
}
