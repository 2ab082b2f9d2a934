using DeployFunctions.GitHub;
using DeployFunctions.Tests.Support;
using GitHubStandIn;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Pipeline;

/// <summary>
/// What a deployment costs of GitHub's rate limit, counted at the stand-in, and how the app keeps within a budget that runs
/// out: GitHub's rate limit per installation, not CPU, is what caps an organization's deployments.
/// </summary>
public sealed class GitHubCallsTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Repository = "/repos/Codertocat/Hello-World";

    [Fact]
    public async Task A_merge_deployed_and_logged_costs_at_most_three_counted_calls_and_five_in_all()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await Eventually.TrueAsync(async () => (await pipeline.HistoryAsync()).Any(s => s.State == "success"), "the first deployment logged");
        var before = pipeline.GitHub.State.Requests.Count;

        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest("2222222222222222222222222222222222222222"));
        await Eventually.TrueAsync(async () => (await pipeline.HistoryAsync()).Count(s => s.State == "success") == 2, "the second deployment logged");
        await Task.Delay(500); // anything late would show

        var calls = pipeline.GitHub.State.Requests.Skip(before).ToList();
        var counted = calls.Where(c => c.Status != 304).Select(c => $"{c.Method} {c.Path}").ToList();
        Assert.True(counted.Count <= 3, $"counted: {string.Join(", ", counted)}");
        Assert.True(calls.Count <= 5, $"all: {string.Join(", ", calls.Select(c => $"{c.Method} {c.Path} {c.Status}"))}");
        Assert.Single(counted, c => c == $"POST {Repository}/deployments"); // create
        Assert.Equal(2, counted.Count(c => c.StartsWith($"POST {Repository}/deployments/", StringComparison.Ordinal) && c.EndsWith("/statuses", StringComparison.Ordinal))); // in_progress, success
    }

    [Fact]
    public async Task A_repository_without_the_file_learns_so_once_and_then_asks_for_free()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);

        foreach (var (sha, deployed) in new[] { ("1111111111111111111111111111111111111111", 1), ("2222222222222222222222222222222222222222", 2) })
        {
            await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest(sha));
            await Eventually.TrueAsync(() => pipeline.Deployments().Count == deployed && pipeline.Deployments().All(d => pipeline.StatesOf(d).Contains("success")),
                $"merge {deployed} deployed");
        }

        var changes = pipeline.GitHub.State.Requests.Where(r => r.Path == $"{Repository}/commits").ToList();
        Assert.Equal(1, changes.Count(r => r.Status == 200));
        Assert.True(changes.Count(r => r.Status == 304) >= 3, $"304s: {changes.Count(r => r.Status == 304)}");
        Assert.DoesNotContain(pipeline.GitHub.State.Requests, r => r.Path.Contains("/contents/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_budget_that_runs_out_is_waited_for_never_overrun_and_every_merge_still_deploys()
    {
        // GitHub's limit scaled down: the reserve plus four calls every three seconds, for four merges at once (they need
        // about twelve counted calls, the first eight within moments, so the budget runs out even on a slow machine). Three
        // every three seconds for three merges starved one past the wait on a loaded CI machine (noted in the closing notes).
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, gitHubOptions: o => o with
        {
            RateLimit = GitHubRateGate.Reserve + 4,
            RateLimitWindow = TimeSpan.FromSeconds(3),
        });

        foreach (var sha in new[] { "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222", "3333333333333333333333333333333333333333", "4444444444444444444444444444444444444444" })
        {
            await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest(sha));
        }

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 4 && pipeline.Deployments().Any(d => pipeline.StatesOf(d).Contains("success")) &&
                                         pipeline.Deployments().All(d => pipeline.StatesOf(d).Any(s => s is "success" or "inactive")),
            "every merge deployed or superseded", TimeSpan.FromSeconds(180));
        Assert.Equal(0, pipeline.GitHub.State.RateLimitRefusals);
        Assert.Equal(0, pipeline.GitHub.State.RequestsBeforeReset);
        Assert.True(pipeline.Services.GetRequiredService<GitHubRateGate>().HeldBack > 0, "the budget never ran out: the test did not test it");
    }

    [Fact]
    public async Task After_GitHub_refuses_for_a_limit_nothing_is_sent_before_the_time_it_gave()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 403, """{"message":"You have exceeded a secondary rate limit."}""")
        {
            Headers = new Dictionary<string, string> { ["Retry-After"] = "3" },
        });

        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await Eventually.TrueAsync(() => pipeline.GitHub.State.Requests.Any(r => r.Status == 403), "the refusal");
        var refusedAt = pipeline.GitHub.State.Requests.First(r => r.Status == 403).At;
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest("2222222222222222222222222222222222222222"));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 2 && pipeline.Deployments().All(d => pipeline.StatesOf(d).Any(s => s is "success" or "inactive")),
            "both deployed after the wait", TimeSpan.FromSeconds(30));
        var next = pipeline.GitHub.State.Requests.Where(r => r.At > refusedAt).Min(r => r.At);
        Assert.True(next - refusedAt >= TimeSpan.FromSeconds(2.9), $"the next request came {(next - refusedAt).TotalSeconds:F1} s after the refusal");
    }
}
