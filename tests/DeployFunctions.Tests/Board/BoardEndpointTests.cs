using System.Text;
using System.Text.Json.Nodes;
using DeployFunctions.Board;
using DeployFunctions.Functions;
using DeployFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Board;

/// <summary>The board's endpoints as the app answers them: bad filters refused with a reason, files by name only, headers.</summary>
public sealed class BoardEndpointTests(Azurite azurite) : IClassFixture<Azurite>
{
    private ServiceProvider Services() => TestHost.Services(azurite.ConnectionString, s =>
    {
        s["BoardTable"] = "B" + Guid.NewGuid().ToString("N")[..12];
        s["LockTable"] = "L" + Guid.NewGuid().ToString("N")[..12];
    });

    private static async Task<(int Status, string Body, IHeaderDictionary Headers)> CallAsync(
        IServiceProvider services, Func<BoardFunctions, HttpRequest, Task<IActionResult>> call, string query = "", string path = "/api/board")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        context.Response.Body = new MemoryStream();
        var result = await call(services.GetRequiredService<BoardFunctions>(), context.Request);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new()));
        return (context.Response.StatusCode, Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()), context.Response.Headers);
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=501", "limit")]
    [InlineData("?since=last-week", "ISO 8601")]
    [InlineData("?until=2026-13-01", "ISO 8601")]
    [InlineData("?since=2026-11-02&until=2026-11-01", "since")]
    [InlineData("?until=0001-01-01", "from 2000")]
    public async Task Bad_filters_are_refused_with_a_reason(string query, string reason)
    {
        await using var services = Services();

        foreach (var call in new Func<BoardFunctions, HttpRequest, Task<IActionResult>>[] { (f, r) => f.Data(r, default), (f, r) => f.Dora(r, default) })
        {
            var (status, body, _) = await CallAsync(services, call, query);
            Assert.Equal(400, status);
            Assert.Contains(reason, (string?)JsonNode.Parse(body)!["reason"], StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("1!2 3!4")]
    public async Task A_made_up_continuation_is_never_a_server_failure(string token)
    {
        await using var services = Services();

        var (status, body, _) = await CallAsync(services, (f, r) => f.Data(r, default), "?continuation=" + Uri.EscapeDataString(token));

        Assert.True(status is 200 or 400, $"answered {status}: {body}");
        if (status == 400)
        {
            Assert.Contains("continuation", (string?)JsonNode.Parse(body)!["reason"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_dora_window_longer_than_a_year_is_refused_and_the_default_is_the_last_30_days_of_production()
    {
        await using var services = Services();

        var (tooLong, body, _) = await CallAsync(services, (f, r) => f.Dora(r, default), "?since=2025-01-01&until=2026-11-30");
        Assert.Equal(400, tooLong);
        Assert.Contains("366 days", body, StringComparison.Ordinal);

        var (ok, report, headers) = await CallAsync(services, (f, r) => f.Dora(r, default));
        Assert.Equal(200, ok);
        var json = JsonNode.Parse(report)!;
        Assert.Equal("production", (string?)json["environment"]);
        Assert.Equal(30, (int)json["days"]!);
        Assert.Equal("no data", (string?)json["deployment_frequency"]!["band"]);
        Assert.Equal("no-store", headers.CacheControl.ToString());
    }

    [Theory]
    [InlineData("board.html")] // the page is served by its own function, with its key
    [InlineData("..%2Fboard.html")]
    [InlineData("../appsettings.json")]
    [InlineData("DeployFunctions.dll")]
    public async Task Only_the_boards_own_files_are_served_by_name(string name)
    {
        await using var services = Services();

        var (status, _, _) = await CallAsync(services, (f, r) => Task.FromResult(f.Asset(r)), path: "/api/board/assets/" + name);

        Assert.Equal(404, status);
    }

    [Fact]
    public async Task The_page_names_each_file_with_its_hash_and_the_files_are_cached_for_a_year_under_the_same_policy()
    {
        await using var services = Services();

        var (status, page, pageHeaders) = await CallAsync(services, (f, r) => Task.FromResult(f.Page(r)));
        Assert.Equal(200, status);
        Assert.Equal("no-store", pageHeaders.CacheControl.ToString());
        Assert.Equal("no-referrer", pageHeaders["Referrer-Policy"].ToString());
        Assert.DoesNotContain("<script>", page, StringComparison.Ordinal); // no inline script: the policy would refuse it
        Assert.DoesNotContain("style=", page, StringComparison.Ordinal);
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", page); // nothing from another origin

        var assets = services.GetRequiredService<BoardAssets>();
        foreach (var name in BoardAssets.Names)
        {
            var hash = assets.Find(name)!.Hash;
            Assert.Contains($"board/assets/{name}?v={hash}\"", page, StringComparison.Ordinal);
            var (ok, _, headers) = await CallAsync(services, (f, r) => Task.FromResult(f.Asset(r)), path: "/api/board/assets/" + name);
            Assert.Equal(200, ok);
            Assert.Equal("public, max-age=31536000, immutable", headers.CacheControl.ToString());
            Assert.Equal(BoardFunctions.ContentSecurityPolicy, headers.ContentSecurityPolicy.ToString());
            Assert.Equal("nosniff", headers.XContentTypeOptions.ToString());
        }
    }

    [Fact]
    public async Task A_lock_on_an_environment_nothing_was_deployed_to_shows_for_a_repository_on_the_board_or_named()
    {
        await using var services = Services();
        var entry = new DeployFunctions.Ledger.LedgerEntry
        {
            Repository = "octo/app", Environment = "production", Sha = new string('1', 40), Ref = "r", BaseBranch = "main",
            Source = DeployFunctions.Ledger.LedgerSources.Merge, RequestedBy = "alice", Reason = "merged", Order = DateTimeOffset.UtcNow,
            Payload = "{}", DeliveryId = "d", DeploymentId = 1, State = DeployFunctions.Ledger.LedgerState.Succeeded,
        };
        await services.GetRequiredService<IDeployBoard>().RecordAsync(new DeployFunctions.History.StatusRecord
        {
            Repository = "octo/app", DeploymentId = 1, StatusId = 1, State = "success", Environment = "production", CreatedAt = DateTimeOffset.UtcNow,
        }, entry, default);
        var locks = services.GetRequiredService<DeployFunctions.Commands.IEnvironmentLocks>();
        foreach (var (repository, environment) in new[] { ("octo/app", "staging"), ("octo/other", "production") })
        {
            await locks.TryLockAsync(new DeployFunctions.Commands.EnvironmentLock
            {
                Repository = repository, Environment = environment, Holder = "bob", Reason = "migration", Since = DateTimeOffset.UtcNow,
            }, default);
        }

        var all = JsonNode.Parse((await CallAsync(services, (f, r) => f.Data(r, default))).Body)!["environments"]!.AsArray();
        var named = JsonNode.Parse((await CallAsync(services, (f, r) => f.Data(r, default), "?repository=octo/other")).Body)!["environments"]!.AsArray();

        Assert.Equal(["octo/app production", "octo/app staging"], all.Select(e => $"{e!["repository"]} {e["environment"]}"));
        Assert.Equal("bob", (string?)all[1]!["lock"]!["holder"]);
        Assert.Null(all[0]!["lock"]);
        Assert.Equal("migration", (string?)Assert.Single(named)!["lock"]!["reason"]);
    }

    [Theory]
    [InlineData("https://api.github.com/", "https://github.com")]
    [InlineData("https://ghe.example.com/api/v3/", "https://ghe.example.com")]
    [InlineData("http://127.0.0.1:4010/", "http://127.0.0.1:4010")]
    public void Links_go_to_githubs_web_address_for_its_api_address(string api, string web) =>
        Assert.Equal(web, BoardReader.WebUrl(new Uri(api)));
}
