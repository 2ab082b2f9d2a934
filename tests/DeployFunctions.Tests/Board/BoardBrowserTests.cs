using System.Globalization;
using System.Text.Json.Nodes;
using Deque.AxeCore.Playwright;
using DeployFunctions.Board;
using DeployFunctions.Commands;
using DeployFunctions.Functions;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace DeployFunctions.Tests.Board;

/// <summary>
/// The deploy board in a real browser (Chromium, driven by Playwright) after a real loop through the whole app: commands
/// that deploy, fail and roll back in <c>octo/app</c>; a merge in <c>Codertocat/Hello-World</c>, then a lock and a merge
/// waiting behind it. It asserts what a person sees, that the page asks no other origin for anything and logs no error,
/// and that axe-core finds no serious or critical accessibility violation. A screenshot is kept in the test results.
/// </summary>
public sealed class BoardBrowserTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string HelloWorld = "Codertocat/Hello-World";

    [BrowserFact]
    public async Task The_board_shows_what_is_live_locked_and_waiting_and_the_four_keys_after_a_real_loop()
    {
        await using var hook = await RecordingServer.StartAsync();
        await using var room = await CommandRoom.OpenWithStagingAsync(azurite, s =>
        {
            s["Environments:production:Provider"] = "http";
            s["Environments:production:Url"] = hook.Url.ToString();
            s["Environments:production:Secret"] = "a-hook-secret-of-some-length";
        });
        var board = room.Pipeline.Services.GetRequiredService<IDeployBoard>();

        // octo/app: a deployment, a failed one, then a rollback to the stable branch.
        await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");
        await LiveAsync(board, CommandRoom.Repository, CommandRoom.HeadSha);
        hook.Status = 500;
        var broken = room.Open(8, "8888888888888888888888888888888888888888");
        room.Say("alice", ".deploy", broken);
        await Eventually.TrueAsync(async () => (await Environment(board, CommandRoom.Repository))?.Recent.Any(d => d.State == "failure") == true,
            "the failed deployment on the board");
        hook.Status = 200;
        var rollbackRoom = room.Open(9, "9999999999999999999999999999999999999999", approvedBy: null);
        room.Say("alice", ".deploy main", rollbackRoom);
        await LiveAsync(board, CommandRoom.Repository, CommandRoom.StableSha);

        // Codertocat/Hello-World: a merge two hours after its pull request merged... then bob's lock, and a merge that waits.
        Assert.Equal(202, await room.Pipeline.DeliverAsync("pull_request", Merged("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", TimeSpan.FromHours(2))));
        await LiveAsync(board, HelloWorld, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
        var locks = room.Pipeline.Services.GetRequiredService<IEnvironmentLocks>();
        Assert.IsType<LockAttempt.Taken>(await locks.TryLockAsync(new EnvironmentLock
        {
            Repository = HelloWorld, Environment = "production", Holder = "bob", Reason = "database migration", Since = DateTimeOffset.UtcNow,
        }, default));
        room.State.OpenPullRequest(room.State.Repository("Codertocat", "Hello-World"), 2, "2222222222222222222222222222222222222222").State = "closed";
        Assert.Equal(202, await room.Pipeline.DeliverAsync("pull_request", Merged("2222222222222222222222222222222222222222", TimeSpan.FromMinutes(5))));
        await Eventually.TrueAsync(async () => (await locks.ListWaitingAsync(HelloWorld, default)).Count == 1, "the merge waiting behind bob's lock");

        // Two previews of octo/app, as the app's own rows hold them; one row carries a script address (never a link).
        var previews = room.Pipeline.Services.GetRequiredService<DeployFunctions.Previews.IPreviewStore>();
        foreach (var (number, url) in new[] { (11L, "https://pr-11.preview.example.com/"), (12L, "javascript:alert(1)") })
        {
            await previews.SaveAsync(new DeployFunctions.Previews.Preview
            {
                Repository = CommandRoom.Repository, Number = number, Environment = $"pr-{number}", Target = "previews",
                State = DeployFunctions.Previews.PreviewState.Active, Status = "✅ Live", Url = url,
                HeadSha = "abcdef0123456789abcdef0123456789abcdef01", HeadAt = DateTimeOffset.UtcNow, LastPushAt = DateTimeOffset.UtcNow,
            }, default);
        }

        await using var server = await BoardServer.StartAsync(room.Pipeline.Services);
        var (playwright, browser) = await Browser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1100 } });
        var errors = new List<string>();
        var elsewhere = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(server.Address.ToString(), StringComparison.Ordinal))
            {
                elsewhere.Add(request.Url);
            }
        };

        await page.GotoAsync(server.PageUrl.ToString());
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("Updated");

        // What is live, locked and waiting.
        var app = page.Locator("article[data-repository='octo/app'][data-environment='production']");
        var hello = page.Locator($"article[data-repository='{HelloWorld}'][data-environment='production']");
        await Assertions.Expect(app.Locator("dd").First).ToContainTextAsync("5555555");
        await Assertions.Expect(app.Locator(".timeline li")).ToHaveCountAsync(3);
        await Assertions.Expect(app.Locator(".timeline .state-failure")).ToHaveCountAsync(1);
        await Assertions.Expect(app.Locator(".timeline li").First).ToContainTextAsync("5555555"); // newest first
        await Assertions.Expect(hello.Locator("dd").First).ToContainTextAsync("0d1a26e");
        await Assertions.Expect(hello).ToContainTextAsync("Locked by bob");
        await Assertions.Expect(hello).ToContainTextAsync("database migration");
        await Assertions.Expect(hello).ToContainTextAsync("2222222");

        // The four keys over both repositories' production: 3 successes and 1 failure, the first success rolled back.
        var figures = page.Locator("#figures .figure");
        await Assertions.Expect(figures).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("[data-figure='Deployment frequency'] .value")).ToHaveTextAsync("0.10 / day");
        await Assertions.Expect(page.Locator("[data-figure='Change failure rate'] .value")).ToHaveTextAsync("50%");
        await Assertions.Expect(page.Locator("[data-figure='Lead time for changes'] .value")).ToContainTextAsync("2.0 h median");
        await Assertions.Expect(page.Locator("[data-figure='Time to restore'] .value")).ToContainTextAsync(" s median");
        await Assertions.Expect(page.Locator("[data-figure='Change failure rate'] .band")).ToHaveTextAsync("low");
        Assert.Contains("rolled back", await page.Locator("[data-figure='Change failure rate']").GetAttributeAsync("title"), StringComparison.Ordinal);
        Assert.True(await PaintedAsync(page, "#frequency-chart"), "the deployment frequency chart has bars");
        Assert.True(await PaintedAsync(page, "#lead-chart"), "the lead time chart has bars");

        // Previews, apart from the environments: none of them is an environment card.
        var preview = page.Locator("#previews tr[data-environment='pr-11']");
        await Assertions.Expect(preview).ToContainTextAsync("✅ Live");
        await Assertions.Expect(preview).ToContainTextAsync("abcdef0");
        await Assertions.Expect(preview.Locator("a[href='https://pr-11.preview.example.com/']")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#previews tr[data-environment='pr-12'] a[href^='javascript']")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("article[data-environment='pr-11']")).ToHaveCountAsync(0);

        Directory.CreateDirectory(RepositoryRoot.Combine("TestResults"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = RepositoryRoot.Combine("TestResults", "board.png"), FullPage = true });

        var axe = await page.RunAxe();
        var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id}: {v.Help}").ToList();
        Assert.True(serious.Count == 0, "axe-core: " + string.Join("; ", serious));

        // A filter changes what is shown: octo/app only, and its four keys (no merge there: no lead time).
        await page.SelectOptionAsync("#repository", "octo/app");
        await Assertions.Expect(hello).ToHaveCountAsync(0);
        await Assertions.Expect(app).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#dora-scope")).ToContainTextAsync("octo/app");
        await Assertions.Expect(page.Locator("[data-figure='Lead time for changes'] .value")).ToContainTextAsync("– median");
        await Assertions.Expect(page.Locator("[data-figure='Change failure rate'] .value")).ToHaveTextAsync("67%");

        Assert.Empty(errors);
        Assert.Empty(elsewhere);

        // Nothing secret on the page or in its data: not the hook's address, not its secret.
        var data = await (await page.APIRequest.GetAsync(new Uri(server.Address, $"api/board/data?code={BoardServer.Key}").ToString())).TextAsync();
        var html = await page.ContentAsync();
        foreach (var secret in new[] { hook.Url.ToString(), hook.Url.Authority, "a-hook-secret-of-some-length" })
        {
            Assert.DoesNotContain(secret, data, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
        }
    }

    [BrowserFact]
    public async Task The_page_and_its_data_need_the_key_and_a_wrong_one_is_said_plainly()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        await using var server = await BoardServer.StartAsync(pipeline.Services);
        var (playwright, browser) = await Browser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await browser.NewPageAsync();

        Assert.Equal(401, (await page.APIRequest.GetAsync(new Uri(server.Address, "api/board").ToString())).Status);
        Assert.Equal(401, (await page.APIRequest.GetAsync(new Uri(server.Address, "api/board/data").ToString())).Status);
        Assert.Equal(401, (await page.APIRequest.GetAsync(new Uri(server.Address, "api/metrics/dora").ToString())).Status);

        var keyed = await page.GotoAsync(server.PageUrl.ToString());
        Assert.Equal(200, keyed!.Status);
        Assert.Equal(BoardFunctions.ContentSecurityPolicy, await keyed.HeaderValueAsync("content-security-policy"));
        Assert.Equal("no-referrer", await keyed.HeaderValueAsync("referrer-policy"));
        await Assertions.Expect(page.Locator("#environments")).ToContainTextAsync("No deployments recorded yet");
        await Assertions.Expect(page.Locator("[data-figure='Deployment frequency'] .band")).ToHaveTextAsync("no data");
    }

    private static async Task<bool> PaintedAsync(IPage page, string chart) => await page.EvaluateAsync<bool>(
        """
        (selector) => {
          const canvas = document.querySelector(selector + " canvas");
          if (!canvas || canvas.width === 0) return false;
          const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          let colored = 0;
          for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3] > 0 && (pixels[i] !== pixels[i + 1] || pixels[i + 1] !== pixels[i + 2])) colored++;
          return colored > 50;
        }
        """, chart);

    private static async Task<BoardEnvironment?> Environment(IDeployBoard board, string repository) =>
        (await board.EnvironmentsAsync(repository, "production", 10, null, default)).Environments.SingleOrDefault();

    private static Task LiveAsync(IDeployBoard board, string repository, string sha) =>
        Eventually.TrueAsync(async () => (await Environment(board, repository))?.Live?.Sha == sha, $"{sha[..7]} live in {repository} on the board");

    /// <summary>GitHub's example merge into Hello-World's default branch, merged <paramref name="ago"/> before now.</summary>
    private static JsonObject Merged(string sha, TimeSpan ago)
    {
        var merged = WebhookExamples.DerivedMergedPullRequest(sha);
        merged["pull_request"]!["base"]!["ref"] = (string?)merged["repository"]!["default_branch"];
        merged["pull_request"]!["labels"] = new JsonArray();
        merged["pull_request"]!["merged_at"] = (DateTimeOffset.UtcNow - ago).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return merged;
    }
}
