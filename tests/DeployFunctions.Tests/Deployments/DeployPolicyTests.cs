using System.Text.Json;
using System.Text.Json.Nodes;
using DeployFunctions.Deployments;
using DeployFunctions.Policy;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.Options;
using Octokit.Webhooks.Events.PullRequest;

namespace DeployFunctions.Tests.Deployments;

public sealed class DeployPolicyTests
{
    private static MergeDecision Decide(JsonObject payload, Action<DeployOptions>? configure = null)
    {
        var options = new DeployOptions { Repositories = "*" };
        configure?.Invoke(options);
        return new DeployPolicy(Options.Create(options)).Decide(payload.Deserialize<PullRequestClosedEvent>()!);
    }

    /// <summary>DERIVED from GitHub's closed example: merged into the default branch ('master' in the example).</summary>
    private static JsonObject Merged(string baseBranch = "master", string sha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c")
    {
        var payload = WebhookExamples.DerivedMergedPullRequest(sha);
        payload["pull_request"]!["base"]!["ref"] = baseBranch;
        payload["pull_request"]!["labels"] = new JsonArray();
        return payload;
    }

    private static string Reason(MergeDecision decision) => Assert.IsType<MergeDecision.DoNotDeploy>(decision).Reason;

    [Fact]
    public void Merge_into_the_default_branch_deploys_the_merge_commit_to_production()
    {
        var request = Assert.IsType<MergeDecision.Deploy>(Decide(Merged())).Request;

        Assert.Equal("Codertocat", request.Owner);
        Assert.Equal("Hello-World", request.Repository);
        Assert.Equal("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", request.Sha);
        Assert.Equal("production", request.Environment);
        Assert.Equal("Codertocat", request.DeployUser);
        Assert.Equal("master", request.BaseBranch);
    }

    [Fact]
    public void Fork_head_is_ignored_the_base_repository_and_merge_commit_are_deployed()
    {
        var payload = Merged();
        payload["pull_request"]!["head"]!["repo"] = null; // the fork was deleted
        payload["pull_request"]!["head"]!["sha"] = "ffffffffffffffffffffffffffffffffffffffff";

        var request = Assert.IsType<MergeDecision.Deploy>(Decide(payload)).Request;

        Assert.Equal("Codertocat/Hello-World", request.FullName);
        Assert.Equal("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", request.Sha);
    }

    [Fact]
    public void Merge_into_another_branch_does_not_deploy_and_says_why() =>
        Assert.Equal("pull request #2 was merged into 'develop', not the default branch 'master'", Reason(Decide(Merged("develop"))));

    [Fact]
    public void Branch_map_sends_each_branch_to_its_environment()
    {
        static void Map(DeployOptions o) => o.BranchEnvironments = "master=production; release/v2 = staging";

        Assert.Equal("staging", Assert.IsType<MergeDecision.Deploy>(Decide(Merged("release/v2"), Map)).Request.Environment);
        Assert.Equal("production", Assert.IsType<MergeDecision.Deploy>(Decide(Merged("master"), Map)).Request.Environment);
        Assert.Contains("'develop' of pull request #2 is not mapped", Reason(Decide(Merged("develop"), Map)), StringComparison.Ordinal);
    }

    [Fact]
    public void Closed_without_merge_does_not_deploy() =>
        Assert.Equal("pull request #2 was closed without merging",
            Reason(Decide(WebhookExamples.Get("pull_request", "closed"))));

    [Fact]
    public void Merged_without_a_merge_commit_does_not_deploy()
    {
        var payload = Merged();
        payload["pull_request"]!["merge_commit_sha"] = null;

        Assert.Equal("pull request #2 has no merge_commit_sha", Reason(Decide(payload)));
    }

    [Theory]
    [InlineData("Codertocat/Hello-World", true)]
    [InlineData("codertocat/hello-world", true)]
    [InlineData("Codertocat/*", true)]
    [InlineData("other/repo; Codertocat/Hello-World", true)]
    [InlineData("other/*", false)]
    [InlineData("Codertocat/Hello", false)]
    [InlineData("Codertocat-evil/*", false)]
    [InlineData("Coder/*", false)]
    public void Allow_list_admits_listed_repositories_only(string allowed, bool deploys)
    {
        var decision = Decide(Merged(), o => o.Repositories = allowed);

        Assert.Equal(deploys, decision is MergeDecision.Deploy);
        if (!deploys)
        {
            Assert.Equal("repository Codertocat/Hello-World is not in Deploy__Repositories", Reason(decision));
        }
    }

    [Theory]
    [InlineData("Codertocat-evil/Hello-World")]
    [InlineData("Codertocatx/Hello-World")]
    public void An_owner_wildcard_does_not_admit_an_owner_whose_name_merely_starts_the_same(string repository)
    {
        var payload = Merged();
        payload["repository"]!["full_name"] = repository;
        payload["repository"]!["owner"]!["login"] = repository.Split('/')[0];

        Assert.IsType<MergeDecision.DoNotDeploy>(Decide(payload, o => o.Repositories = "Codertocat/*"));
    }

    [Fact]
    public void Opt_out_label_stops_the_deployment()
    {
        var payload = Merged();
        payload["pull_request"]!["labels"] = new JsonArray(new JsonObject
        {
            ["id"] = 1, ["node_id"] = "LA_1", ["url"] = "https://api.github.com/repos/Codertocat/Hello-World/labels/No-Deploy",
            ["name"] = "No-Deploy", ["description"] = null, ["color"] = "ff0000", ["default"] = false,
        });

        Assert.Equal("pull request #2 has the label 'no-deploy'", Reason(Decide(payload)));
        Assert.IsType<MergeDecision.Deploy>(Decide(payload, o => o.SkipLabel = ""));
    }

    [Fact]
    public void Required_contexts_setting_maps_to_GitHubs_three_meanings()
    {
        Assert.Null(new DeployOptions { RequiredContexts = null }.ParseRequiredContexts());
        Assert.Null(new DeployOptions { RequiredContexts = " " }.ParseRequiredContexts());
        Assert.Empty(new DeployOptions { RequiredContexts = "none" }.ParseRequiredContexts()!);
        Assert.Equal(["ci/build", "ci/test"], new DeployOptions { RequiredContexts = "ci/build; ci/test" }.ParseRequiredContexts()!);
    }

    [Fact]
    public void Description_is_cut_to_GitHubs_140_characters()
    {
        var description = DeploymentMarker.Describe(new string('x', 500));

        Assert.Equal(140, description.Length);
        Assert.EndsWith("…", description, StringComparison.Ordinal);
    }
}
