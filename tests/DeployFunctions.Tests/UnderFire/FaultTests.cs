using System.Globalization;
using System.Text.Json.Nodes;
using DeployFunctions.Tests.Support;
using GitHubStandIn;

namespace DeployFunctions.Tests.UnderFire;

/// <summary>GitHub misbehaving, and duplicates at scale, through the whole pipeline.</summary>
public sealed class FaultTests(Azurite azurite) : IClassFixture<Azurite>
{
    [Fact]
    public async Task GitHub_hanging_past_the_timeout_is_retried_and_succeeds()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings => settings["GitHub:RequestTimeoutSeconds"] = "1");
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 201) { Delay = TimeSpan.FromSeconds(3) });

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment after the timeout");
        await Eventually.TrueAsync(() => Posts(pipeline).Count == 2, "both requests recorded");
        Assert.Equal([499, 201], Posts(pipeline).OrderBy(r => r.At).Select(r => r.Status));
        Assert.Single(pipeline.Deployments());
    }

    [Fact]
    public async Task Bad_gateway_is_retried_with_back_off_and_succeeds()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 502, "<html>Bad Gateway</html>"));
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 502, "<html>Bad Gateway</html>"));

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment after two 502s");
        Assert.Equal([502, 502, 201], Posts(pipeline).Select(r => r.Status));
    }

    [Fact]
    public async Task Primary_rate_limit_waits_until_x_ratelimit_reset()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var reset = DateTimeOffset.UtcNow.AddSeconds(3);
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 403, """{"message":"API rate limit exceeded for installation ID 1."}""")
        {
            Headers = new Dictionary<string, string>
            {
                ["X-RateLimit-Limit"] = "5000",
                ["X-RateLimit-Remaining"] = "0",
                ["X-RateLimit-Reset"] = reset.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            },
        });

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment after the reset");
        var posts = Posts(pipeline);
        Assert.Equal([403, 201], posts.Select(r => r.Status));
        Assert.True(posts[1].At >= DateTimeOffset.FromUnixTimeSeconds(reset.ToUnixTimeSeconds()), $"retried at {posts[1].At:O}, before the reset {reset:O}");
    }

    [Fact]
    public async Task A_result_whose_post_failed_is_posted_before_the_next_deployment_of_the_environment_runs()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        const string First = "1111111111111111111111111111111111111111";
        // The first deployment runs, but GitHub fails its `success` post and asks for four seconds.
        pipeline.GitHub.State.AddFault(new Fault("POST", "/statuses", 502, "<html>Bad Gateway</html>")
        {
            BodyContains = "\"success\"",
            Headers = new Dictionary<string, string> { ["Retry-After"] = "4" },
        });

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest(First)));
        await Eventually.TrueAsync(() => pipeline.GitHub.State.Requests.Any(r => r.Status == 502), "the failed success post");
        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest("2222222222222222222222222222222222222222")));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 2 && pipeline.Deployments().All(d => pipeline.StatesOf(d).Contains("success")),
            "both deployed", TimeSpan.FromSeconds(30));
        var first = pipeline.Deployments().Single(d => d.Sha == First);
        var second = pipeline.Deployments().Single(d => d.Sha != First);
        DateTimeOffset At(StandInDeployment deployment, string state)
        {
            lock (pipeline.GitHub.State.Gate)
            {
                return deployment.Statuses.First(s => s.State == state).CreatedAt;
            }
        }

        // On GitHub and in history the first's result comes before the second begins: never an older success after a newer one.
        Assert.True(At(first, "success") <= At(second, "in_progress"),
            $"first success {At(first, "success"):HH:mm:ss.fff}, second in_progress {At(second, "in_progress"):HH:mm:ss.fff}");
    }

    [Theory]
    [InlineData(404, """{"message":"Not Found"}""")]
    [InlineData(422, """{"message":"Validation Failed","errors":[{"resource":"Deployment","code":"custom","message":"No ref found for: x"}]}""")]
    public async Task Permanent_errors_are_not_retried_in_a_loop(int status, string body)
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", status, body));

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));

        await Eventually.TrueAsync(() => pipeline.PoisonCountAsync("pull-requests").Result == 1, "the delivery in poison");
        await Task.Delay(1000);
        Assert.Single(Posts(pipeline));
    }

    [Fact]
    public async Task Transient_faults_beyond_the_configured_attempts_end_in_poison()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, settings => settings["Retry:MaxAttempts"] = "2");
        for (var i = 0; i < 5; i++)
        {
            pipeline.GitHub.State.AddFault(new Fault("POST", "/deployments", 500, """{"message":"Server Error"}"""));
        }

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", Merged()));

        await Eventually.TrueAsync(() => pipeline.PoisonCountAsync("pull-requests").Result == 1, "the delivery in poison");
        Assert.Equal(3, Posts(pipeline).Count); // the first try and two retries
        Assert.Empty(pipeline.Deployments());
    }

    [Fact]
    public async Task The_same_merged_pull_request_200_times_at_once_gives_one_deployment_and_one_final_status()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var merged = Merged();

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => pipeline.DeliverAsync("pull_request", merged, $"delivery-{i % 7}")));

        Assert.All(answers, status => Assert.Equal(202, status));
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1 && pipeline.StatesOf(pipeline.Deployments()[0]).Contains("success"),
            "the deployment finished", TimeSpan.FromSeconds(120));
        await Eventually.TrueAsync(() => QueuesEmpty(pipeline), "every queue drained", TimeSpan.FromSeconds(120));
        var deployment = Assert.Single(pipeline.Deployments());
        Assert.Equal(["in_progress", "success"], pipeline.StatesOf(deployment));
        Assert.Equal(0, await pipeline.PoisonCountAsync("pull-requests"));
    }

    private static List<RecordedRequest> Posts(Support.Pipeline pipeline) => [.. pipeline.GitHub.State.Requests
        .Where(r => r.Method == "POST" && r.Path.EndsWith("/deployments", StringComparison.Ordinal))];

    private static bool QueuesEmpty(Support.Pipeline pipeline) =>
        new[] { "pull-requests", "deployments", "deployment-statuses" }.All(suffix =>
            pipeline.Azurite.Queues().GetQueueClient($"{pipeline.Prefix}-{suffix}").GetProperties().Value.ApproximateMessagesCount == 0);

    /// <summary>DERIVED from GitHub's real closed example: merged into the default branch.</summary>
    private static JsonObject Merged()
    {
        var merged = WebhookExamples.DerivedMergedPullRequest();
        merged["pull_request"]!["base"]!["ref"] = (string?)merged["repository"]!["default_branch"];
        merged["pull_request"]!["labels"] = new JsonArray();
        return merged;
    }
}
