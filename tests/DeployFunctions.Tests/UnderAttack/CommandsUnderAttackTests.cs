using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.UnderAttack;

/// <summary>
/// Chat commands tried by a collaborator with write access and by anyone who can review a public repository: the policy
/// comes from the default branch only, approvals count only from people with write access and only as GitHub's own rules
/// for the base branch allow, and a commit's check runs count with its statuses.
/// </summary>
public sealed class CommandsUnderAttackTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string ConfigPath = ".github/deployfunctions.yml";

    [Fact]
    public async Task A_pull_request_into_a_branch_its_author_chose_is_refused_with_the_reason()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.State.Files[(CommandRoom.Repository, ConfigPath)] = "commands:\n  allowed_users: [bob]\n";
        room.State.FilesAt[(CommandRoom.Repository, "evil", ConfigPath)] = null; // the author's branch has no file at all
        var evil = room.Open(8, "8888888888888888888888888888888888888888", baseRef: "evil");

        var outsider = await room.AnsweredAsync(room.Say("alice", ".deploy to production", evil), "confused", evil);
        var listed = await room.AnsweredAsync(room.Say("bob", ".deploy to production", evil), "confused", evil);

        Assert.Contains("not in this app's list", outsider.Body, StringComparison.Ordinal); // the default branch's file still applies
        Assert.Contains("is based on `evil`, not the default branch `main`", listed.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task The_policy_is_read_at_the_default_branch_even_for_a_base_the_operator_maps()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Deploy:BranchEnvironments"] = "main=production;release=staging";
            s["Environments:staging:Provider"] = "simulated";
            s["Environments:staging:DelaySeconds"] = "0.1";
        });
        room.State.Files[(CommandRoom.Repository, ConfigPath)] = "commands:\n  allowed_users: [bob]\n";
        room.State.FilesAt[(CommandRoom.Repository, "release", ConfigPath)] = null; // removed on release by a collaborator
        var release = room.Open(8, "8888888888888888888888888888888888888888", baseRef: "release");

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy to staging", release), "confused", release);

        Assert.Contains("not in this app's list", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
        Assert.DoesNotContain(room.State.Requests, r => r.Path.EndsWith(ConfigPath, StringComparison.Ordinal) && r.Query != "?ref=main");
    }

    [Fact]
    public async Task A_dispatched_workflow_runs_from_the_default_branch_never_from_the_pull_requests_base()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Deploy:BranchEnvironments"] = "main=production;release=staging";
            s["Environments:staging:Provider"] = "github-actions";
            s["Environments:staging:Workflow"] = "deploy.yml";
        });
        var release = room.Open(8, "8888888888888888888888888888888888888888", baseRef: "release");

        room.Say("alice", ".deploy to staging", release);

        await Eventually.TrueAsync(() => Runs(room).Count == 1, "the workflow dispatched");
        Assert.Equal("main", Runs(room)[0].Ref);
    }

    [Fact]
    public async Task An_approval_by_someone_without_write_access_does_not_count()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        var outsider = room.Open(8, "8888888888888888888888888888888888888888", approvedBy: "stranger"); // anyone may review a public repository

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy", outsider), "confused", outsider);

        Assert.Contains("has no approving review of its head commit", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Theory]
    [InlineData("REVIEW_REQUIRED")]
    [InlineData("CHANGES_REQUESTED")]
    public async Task A_pull_request_GitHubs_own_review_rules_would_not_let_merge_is_refused(string decision)
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.Pull.ReviewDecision = decision; // e.g. the base branch needs two approvals, or a code owner's

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains($"GitHub's review rules for `main` are not met ({decision})", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_failing_check_run_refuses_the_deploy_and_names_the_check()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.State.CombinedStatuses[CommandRoom.HeadSha] = ("success", "ci/lint");
        room.State.AddCheckRun(CommandRoom.HeadSha, "build", "completed", "failure"); // GitHub Actions reports only as check runs

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("`build`", reply.Body, StringComparison.Ordinal);
        Assert.Contains("failing", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task An_empty_allow_list_in_the_file_admits_nobody()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.State.Files[(CommandRoom.Repository, ConfigPath)] = "commands:\n  allowed_users: []\n";

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("not in this app's list", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task An_environment_lock_under_someone_elses_global_lock_is_refused()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        await room.AnsweredAsync(room.Say("alice", ".lock --global"), "rocket");

        var refused = await room.AnsweredAsync(room.Say("bob", ".lock production"), "confused");
        var deployed = await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");

        Assert.Contains("every environment (global lock) is locked by @alice", refused.Body, StringComparison.Ordinal);
        Assert.Contains("Deployed", deployed.Body, StringComparison.Ordinal);
    }

    private static List<GitHubStandIn.StandInWorkflowRun> Runs(CommandRoom room)
    {
        lock (room.State.Gate)
        {
            return [.. room.State.WorkflowRuns];
        }
    }
}
