using DeployFunctions.Ledger;
using DeployFunctions.Maintenance;
using DeployFunctions.Tests.Support;
using GitHubStandIn;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.UnderAttack;

/// <summary>
/// The second attacker's read: for each fact a decision reads, someone who could write it tries. A re-run workflow, a job on a
/// branch of one's own, a dry run of unreviewed code, a pull request into a weaker branch, a backdated commit, a check past
/// the first hundred, one's own approval, a run dispatched under the app's deployment id, a status posted as the Actions bot,
/// a stranger's comment, a deployment made while the app's is still being created, a forged status relayed to the team.
/// </summary>
public sealed class PolicyInputsUnderAttackTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string OlderSha = "2222222222222222222222222222222222222222";

    private static Action<Dictionary<string, string?>> Workflow(Action<Dictionary<string, string?>>? more = null) => s =>
    {
        s["Environments:production:Provider"] = "github-actions";
        s["Environments:production:Workflow"] = "deploy.yml";
        s["Protection:PollSeconds"] = "0.3";
        s["Protection:MaxWaitMinutes"] = "0.05";
        more?.Invoke(s);
    };

    [Fact]
    public async Task Re_running_a_finished_run_the_app_dispatched_is_rejected_not_deployed_again()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, Workflow(s => s["Deploy:AllowForce"] = "true"));
        var command = room.Say("alice", ".deploy");
        await Eventually.TrueAsync(() => Runs(room.State).Count == 1, "the workflow dispatched");
        var run = Runs(room.State)[0];
        room.Pipeline.GitHub.CompleteRun(run.Id, "success");
        await room.AnsweredAsync(command, "rocket");

        // Weeks later a writer clicks "Re-run": the run keeps its id, and its production job asks the rule again.
        await room.Pipeline.DeliverAsync("deployment_protection_rule",
            room.Pipeline.GitHub.ProtectionRuleRequested(room.Pull.Repository, "production", CommandRoom.HeadSha, run.Id, StandInState.AppLogin, 42));

        await Eventually.TrueAsync(() => !room.State.ProtectionAnswers.IsEmpty, "the answer");
        var answer = Assert.Single(room.State.ProtectionAnswers);
        Assert.Equal("rejected", answer.State);
        Assert.Contains($"run {run.Id} belongs to deployment", answer.Comment, StringComparison.Ordinal);
        Assert.Contains("already ended", answer.Comment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_on_a_branch_that_does_not_deploy_to_the_environment_is_rejected_and_the_default_branch_is_not()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Protection:PollSeconds"] = "0.3");
        var repository = pipeline.GitHub.State.Repository("octo", "app");
        pipeline.GitHub.State.CombinedStatuses[OlderSha] = ("success", "ci/build");

        // Her own branch, with a workflow whose job says 'environment: production': nobody reviewed what it runs.
        await pipeline.DeliverAsync("deployment_protection_rule",
            pipeline.GitHub.ProtectionRuleRequested(repository, "production", OlderSha, 601, "mallory", 42, reference: "mallory/try-this"));
        await Eventually.TrueAsync(() => pipeline.GitHub.State.ProtectionAnswers.Count == 1, "the first answer");
        await pipeline.DeliverAsync("deployment_protection_rule",
            pipeline.GitHub.ProtectionRuleRequested(repository, "production", OlderSha, 602, "mallory", 42, reference: "refs/heads/main"));
        await Eventually.TrueAsync(() => pipeline.GitHub.State.ProtectionAnswers.Count == 2, "the second answer");

        var answers = pipeline.GitHub.State.ProtectionAnswers.ToDictionary(a => a.RunId);
        Assert.Equal("rejected", answers[601].State);
        Assert.Contains("the job runs `mallory/try-this`, and merges into it do not deploy to production", answers[601].Comment, StringComparison.Ordinal);
        Assert.Equal("approved", answers[602].State);
    }

    [Fact]
    public async Task A_noop_of_an_unreviewed_pull_request_is_refused_by_default()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        var unreviewed = room.Open(8, "8888888888888888888888888888888888888888", approvedBy: null);

        var reply = await room.AnsweredAsync(room.Say("alice", ".noop", unreviewed), "confused", unreviewed);

        Assert.Contains("has no approving review of its head commit", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_noop_of_an_unreviewed_pull_request_runs_when_the_operator_opts_into_branch_deploys_noop()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:NoopSkipsReview"] = "true");
        var unreviewed = room.Open(8, "8888888888888888888888888888888888888888", approvedBy: null);

        await room.AnsweredAsync(room.Say("alice", ".noop", unreviewed), "rocket", unreviewed);

        Assert.Equal("deploy:noop", Assert.Single(room.Deployments()).Task);
    }

    [Fact]
    public async Task A_pull_request_into_a_weaker_mapped_branch_deploys_only_where_that_branch_deploys()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Deploy:BranchEnvironments"] = "main=production;develop=staging";
            s["Environments:staging:Provider"] = "simulated";
            s["Environments:staging:DelaySeconds"] = "0.1";
        });
        var develop = room.Open(8, "8888888888888888888888888888888888888888", baseRef: "develop"); // reviewed by develop's lighter rules

        var bare = await room.AnsweredAsync(room.Say("alice", ".deploy", develop), "confused", develop);
        var named = await room.AnsweredAsync(room.Say("alice", ".deploy to production", develop), "confused", develop);
        await room.AnsweredAsync(room.Say("alice", ".deploy to staging", develop), "rocket", develop);

        Assert.All(new[] { bare, named }, reply =>
            Assert.Contains("is based on `develop`, which deploys to staging, not production", reply.Body, StringComparison.Ordinal));
        Assert.Equal("staging", Assert.Single(room.Deployments()).Environment);
    }

    [Fact]
    public async Task The_checks_of_a_backdated_commit_listed_last_do_not_stand_for_the_head()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.State.AddCheckRun(CommandRoom.HeadSha, "build", "completed", "failure");
        room.State.AddCheckRun(OlderSha, "build", "completed", "success");
        room.Pull.ListedCommits = [CommandRoom.HeadSha, OlderSha]; // pushed after the head, dated before it: GitHub lists it last

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("`build`", reply.Body, StringComparison.Ordinal);
        Assert.Contains("failing on the commit", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_failing_check_past_the_first_hundred_still_refuses()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        for (var i = 0; i < 150; i++)
        {
            room.State.AddCheckRun(CommandRoom.HeadSha, $"matrix ({i})", "completed", i == 149 ? "failure" : "success");
        }

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("`matrix (149)`", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task The_commenters_own_approval_does_not_count()
    {
        await using var room = await CommandRoom.OpenAsync(azurite); // approved by carol only

        var reply = await room.AnsweredAsync(room.Say("carol", ".deploy"), "confused");

        Assert.Contains("approved only by @carol", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task An_approval_by_the_head_commits_author_does_not_count()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        var pushed = room.Open(8, "8888888888888888888888888888888888888888", approvedBy: "bob");
        pushed.HeadCommitAuthor = "bob"; // bob pushed the head onto alice's branch, then approved it

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy", pushed), "confused", pushed);

        Assert.Contains("approved only by @bob", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_dispatch_answered_without_run_details_learns_the_apps_own_run_not_one_a_collaborator_started()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, Workflow());
        room.State.DispatchRunDetails = false; // a GitHub that predates return_run_details answers 204
        // Deployment ids are sequential: mallory dispatches the workflow herself, titled with the id the app's will get.
        await Collaborator.CallAsync(room.Pipeline.GitHub, "mallory", HttpMethod.Post, "/repos/octo/app/actions/workflows/deploy.yml/dispatches",
            """{"ref":"main","inputs":{"deployment_id":"1001","environment":"production","ref":"2222222222222222222222222222222222222222"}}""");

        room.Say("alice", ".deploy");

        await Eventually.TrueAsync(() => Runs(room.State).Count == 2, "the app's own dispatch");
        var deployment = Assert.Single(room.Deployments());
        Assert.Equal(1001, deployment.Id);
        var ledger = room.Pipeline.Services.GetRequiredService<IDeploymentLedger>();
        var apps = Runs(room.State).Single(r => r.Actor == StandInState.AppLogin);
        await Eventually.TrueAsync(async () => (await ledger.FindDeploymentAsync(CommandRoom.Repository, "production", 1001, CancellationToken.None))?.RunId == apps.Id,
            "the app's run recorded as the deployment's");
    }

    [Fact]
    public async Task A_hand_off_whose_run_is_unknown_is_never_settled_by_a_status_the_actions_bot_posts()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, Workflow(s => s["Environments:production:WatchdogMinutes"] = "0.005"));
        room.State.DispatchRunDetails = false;
        room.State.RunNames[(CommandRoom.Repository, "deploy.yml")] = null; // no run-name: its runs cannot be told apart
        room.Say("alice", ".deploy");
        await Eventually.TrueAsync(() => room.Deployments().Count == 1 && Runs(room.State).Count == 1, "dispatched");
        var id = room.Deployments()[0].Id;
        var ledger = room.Pipeline.Services.GetRequiredService<IDeploymentLedger>();
        await Eventually.TrueAsync(async () => (await ledger.FindDeploymentAsync(CommandRoom.Repository, "production", id, CancellationToken.None)) is { State: LedgerState.HandedOff, RunId: null },
            "handed off with no run id");

        // Any workflow of any writer, on any branch, posts as github-actions[bot] with its GITHUB_TOKEN.
        await Collaborator.CallAsync(room.Pipeline.GitHub, "github-actions[bot]", HttpMethod.Post, $"/repos/octo/app/deployments/{id}/statuses", """{"state":"success"}""");
        await Task.Delay(500);
        await room.Pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None);

        Assert.Equal(LedgerState.Errored, (await ledger.FindDeploymentAsync(CommandRoom.Repository, "production", id, CancellationToken.None))!.State);
    }

    [Theory]
    [InlineData("stranger")] // not a collaborator: anyone, on a public repository
    [InlineData("rita")] // read
    public async Task Someone_without_the_permission_gets_one_reaction_and_no_reply(string who)
    {
        await using var room = await CommandRoom.OpenAsync(azurite);

        var command = room.Say(who, ".deploy @everyone see https://evil.example/");

        await Eventually.TrueAsync(() => room.State.ReactionsOn(command.Id).Contains("confused"), "the reaction");
        await Task.Delay(500);
        Assert.Equal(["confused"], room.State.ReactionsOn(command.Id));
        Assert.Empty(room.RepliesTo(command));
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_reply_repeats_what_someone_wrote_only_inside_a_code_span()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy main to production ` @everyone [prize](https://evil.example/)"), "confused");

        Assert.Contains("unexpected `' @everyone [prize](https://evil.example/)`", reply.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("` @everyone", reply.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_collaborators_deployment_of_a_commit_being_created_is_not_waited_for()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        var approval = await ledger.ApproveAsync(new LedgerEntry
        {
            Repository = "Codertocat/Hello-World", Environment = "production", Sha = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", // the example's commit
            Ref = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", BaseBranch = "master", Source = LedgerSources.Merge, PullRequest = 2,
            RequestedBy = "Codertocat", Reason = "merge", Order = DateTimeOffset.UtcNow, Payload = "{}", DeliveryId = "d-creating",
        }, CancellationToken.None);
        await ledger.UpdateApprovalAsync(approval with { CreateSentAt = DateTimeOffset.UtcNow }, CancellationToken.None); // its answer is on the way

        var payload = WebhookExamples.Get("deployment", "created"); // created by Codertocat, not the app
        var runner = pipeline.Services.GetRequiredService<DeployFunctions.Deployments.DeploymentRunner>();
        var outcome = await runner.HandleAsync(new DeployFunctions.Storage.QueuedDelivery(new DeployFunctions.Webhooks.WebhookEnvelope
        {
            DeliveryId = "d-hers", Event = "deployment", Action = "created", ReceivedAt = DateTimeOffset.UtcNow, Repository = "Codertocat/Hello-World",
        }, WebhookExamples.Bytes(payload)), CancellationToken.None);

        var skipped = Assert.IsType<DeployFunctions.Queues.HandlerOutcome.Skipped>(outcome);
        Assert.Contains("is not in DeployFunctions' ledger", skipped.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_notification_says_who_posted_the_status()
    {
        await using var slack = await RecordingServer.StartAsync();
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s => s["Notifications:WebhookUrl"] = slack.Url.ToString());
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the app's deployment");
        var id = pipeline.Deployments()[0].Id;
        await Eventually.TrueAsync(() => slack.Received.Count == 1, "the app's own success notified");

        await Collaborator.CallAsync(pipeline.GitHub, "mallory", HttpMethod.Post, $"/repos/Codertocat/Hello-World/deployments/{id}/statuses",
            """{"state":"failure","description":"Rolled back, see https://evil.example/"}""");

        await Eventually.TrueAsync(() => slack.Received.Count == 2, "her status notified");
        var texts = slack.Received.Select(r => (string?)System.Text.Json.Nodes.JsonNode.Parse(r.Body)!["text"]).ToList();
        Assert.EndsWith($"(status by @{StandInState.AppLogin})", texts[0], StringComparison.Ordinal);
        Assert.EndsWith("(status by @mallory)", texts[1], StringComparison.Ordinal);
    }

    private static List<StandInWorkflowRun> Runs(StandInState state)
    {
        lock (state.Gate)
        {
            return [.. state.WorkflowRuns];
        }
    }
}
