using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Config;

/// <summary>A repository's <c>.github/deployfunctions.yml</c> deciding merges end to end, read from the stand-in's Contents API.</summary>
public sealed class ConfigLoopTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Repository = "Codertocat/Hello-World";
    private const string ConfigPath = ".github/deployfunctions.yml";
    private const string MergeSha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";

    private async Task<Support.Pipeline> StartAsync(string? file, Action<Dictionary<string, string?>>? configure = null)
    {
        var pipeline = await Support.Pipeline.StartAsync(azurite, configure);
        var state = pipeline.GitHub.State;
        state.OpenPullRequest(state.Repository("Codertocat", "Hello-World", "master"), 2, MergeSha).State = "closed";
        if (file is not null)
        {
            state.Files[(Repository, ConfigPath)] = file;
        }

        return pipeline;
    }

    private static List<string> CommentsOnTheMerge(Support.Pipeline pipeline) =>
        [.. pipeline.GitHub.State.CommentsOn(Repository, 2).Select(c => c.Body)];

    [Fact]
    public async Task A_file_that_would_widen_the_app_settings_refuses_the_merge_with_a_failing_status_and_one_comment()
    {
        await using var pipeline = await StartAsync("environments:\n  qa: {}\n");

        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest()));
        await Eventually.TrueAsync(() => !pipeline.GitHub.State.CommitStatuses.IsEmpty && CommentsOnTheMerge(pipeline).Count == 1, "the refusal reported");
        Assert.Equal(202, await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest())); // GitHub redelivers
        await Eventually.TrueAsync(() => pipeline.GitHub.State.CommitStatuses.Count == 2, "the redelivery handled");

        var status = pipeline.GitHub.State.CommitStatuses.First();
        Assert.Equal((MergeSha, "failure", "deployfunctions/config"), (status.Sha, status.State, status.Context));
        Assert.Contains("environments.qa: not an environment", status.Description, StringComparison.Ordinal);
        Assert.Contains("environments.qa: not an environment", Assert.Single(CommentsOnTheMerge(pipeline)), StringComparison.Ordinal);
        Assert.Empty(pipeline.Deployments());
    }

    [Fact]
    public async Task An_invalid_file_deploys_nothing_on_a_guess()
    {
        await using var pipeline = await StartAsync("environments:\n  production:\n    auto_deploy: sometimes\n");

        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());

        await Eventually.TrueAsync(() => CommentsOnTheMerge(pipeline).Count == 1, "the refusal comment");
        Assert.Contains("environments.production.auto_deploy", CommentsOnTheMerge(pipeline)[0], StringComparison.Ordinal);
        Assert.Equal("failure", pipeline.GitHub.State.CommitStatuses.Single().State);
        Assert.Empty(pipeline.Deployments());
    }

    [Fact]
    public async Task A_file_that_narrows_keeps_merges_from_deploying_and_its_removal_restores_the_app_settings()
    {
        await using var pipeline = await StartAsync("environments:\n  production:\n    auto_deploy: false\n");
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await Eventually.TrueAsync(() => pipeline.GitHub.State.Requests.Any(r => r.Path.EndsWith("/deployfunctions.yml", StringComparison.Ordinal)), "the file read");
        await Task.Delay(1000);
        Assert.Empty(pipeline.Deployments());

        pipeline.GitHub.State.Files.TryRemove((Repository, ConfigPath), out _);
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest("1111111111111111111111111111111111111111"));

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the merge deployed under the app's settings");
    }

    [Fact]
    public async Task The_file_is_read_at_the_default_branch_only_and_read_again_with_a_free_304()
    {
        // The app skips the check (none); the file adds a context to it, which narrows.
        await using var pipeline = await StartAsync("environments:\n  production:\n    branches: [master]\n    required_contexts: [ci/build]\n",
            s => s["Deploy:RequiredContexts"] = "none");

        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the first merge deployed");
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest("2222222222222222222222222222222222222222"));
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 2 && pipeline.Deployments().All(d => pipeline.StatesOf(d).Contains("success")),
            "both merges deployed");

        // At the default branch only (by each merge, and by the runner before each run): which commit last changed the file,
        // in full once and then as free 304s; the file itself once, since it never changed.
        var changes = pipeline.GitHub.State.Requests.Where(r => r.Path == "/repos/Codertocat/Hello-World/commits").ToList();
        Assert.All(changes, r => Assert.Contains("sha=master", r.Query, StringComparison.Ordinal));
        Assert.All(changes, r => Assert.Contains("deployfunctions.yml", r.Query, StringComparison.Ordinal));
        Assert.Equal(1, changes.Count(r => r.Status == 200));
        Assert.True(changes.Count(r => r.Status == 304) >= 3, $"304s: {changes.Count(r => r.Status == 304)}");
        var reads = pipeline.GitHub.State.Requests.Where(r => r.Path.EndsWith("/contents/.github/deployfunctions.yml", StringComparison.Ordinal)).ToList();
        Assert.Equal("?ref=master", Assert.Single(reads).Query);
        // Every answer but a 304 costs one request of the rate limit.
        Assert.Equal(pipeline.GitHub.State.Requests.Count(r => r.Status != 304), pipeline.GitHub.State.RateLimitUsed);
        Assert.All(pipeline.Deployments(), d => Assert.Equal(["ci/build"], d.Request["required_contexts"]!.AsArray().Select(c => (string?)c)));
    }

    [Fact]
    public async Task A_retried_creation_still_carries_the_files_required_contexts()
    {
        await using var pipeline = await StartAsync("environments:\n  production:\n    required_contexts: [ci/e2e]\n",
            s => s["Deploy:RequiredContexts"] = "none");
        pipeline.GitHub.State.AddFault(new GitHubStandIn.Fault("POST", "/repos/Codertocat/Hello-World/deployments", 502, """{"message":"Server Error"}"""));

        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());

        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment after the 502");
        Assert.Equal(["ci/e2e"], pipeline.Deployments()[0].Request["required_contexts"]!.AsArray().Select(c => (string?)c));
    }

    [Fact]
    public async Task A_merge_during_a_freeze_waits_with_one_comment_and_deploys_when_it_ends()
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(5);
        await using var pipeline = await StartAsync(
            $"environments:\n  production:\n    freezes:\n      - from: {DateTimeOffset.UtcNow.AddMinutes(-5):O}\n        until: {until:O}\n        reason: release freeze\n");

        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());

        await Eventually.TrueAsync(() => CommentsOnTheMerge(pipeline).Count == 1, "the freeze notice");
        Assert.Contains("production is frozen until", CommentsOnTheMerge(pipeline)[0], StringComparison.Ordinal);
        Assert.Contains("release freeze", CommentsOnTheMerge(pipeline)[0], StringComparison.Ordinal);
        Assert.Empty(pipeline.Deployments());
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1 && pipeline.StatesOf(pipeline.Deployments()[0]).Contains("success"),
            "the deployment after the freeze");
        Assert.True(pipeline.Deployments()[0].CreatedAt >= until);
        Assert.Single(CommentsOnTheMerge(pipeline));
    }

    [Fact]
    public async Task A_merge_during_a_freeze_that_skips_merges_is_not_deployed()
    {
        await using var pipeline = await StartAsync(null, s =>
        {
            s["Deploy:FreezeMerges"] = "skip";
            s["Freezes:0:Reason"] = "quarter end";
            s["Freezes:0:Cron"] = "* * * * *";
            s["Freezes:0:Duration"] = "2m";
        });

        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());

        await Eventually.TrueAsync(() => CommentsOnTheMerge(pipeline).Count == 1, "the skip notice");
        Assert.Contains("was not deployed: production is frozen", CommentsOnTheMerge(pipeline)[0], StringComparison.Ordinal);
        Assert.Contains("the app's settings", CommentsOnTheMerge(pipeline)[0], StringComparison.Ordinal);
        Assert.Empty(pipeline.Deployments());
    }
}
