using System.Text.Json.Nodes;
using DeployFunctions.Ledger;
using DeployFunctions.Maintenance;
using DeployFunctions.Tests.Support;
using GitHubStandIn;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.UnderAttack;

/// <summary>
/// Deployments and statuses a collaborator with write access can make through GitHub's API (anyone with write access
/// can): the app adopts only deployments it created itself, believes only its own outcomes, and judges a workflow it
/// dispatched by the command that caused it.
/// </summary>
public sealed class DeploymentsUnderAttackTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string MergeSha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";

    /// <summary>A request to the stand-in's REST API with mallory's own token (she has write access).</summary>
    private static Task<JsonNode?> AsMalloryAsync(Support.Pipeline pipeline, HttpMethod method, string path, string body) =>
        Collaborator.CallAsync(pipeline.GitHub, "mallory", method, path, body);

    private static List<string> StatesOf(Support.Pipeline pipeline, long id) =>
        pipeline.StatesOf(pipeline.Deployments().Single(d => d.Id == id));

    [Fact]
    public async Task A_collaborators_deployment_of_the_merge_commit_is_never_adopted()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        var forged = await AsMalloryAsync(pipeline, HttpMethod.Post, "/repos/Codertocat/Hello-World/deployments",
            $$$"""{"ref":"{{{MergeSha}}}","environment":"production","required_contexts":[],"auto_merge":false,"payload":{"created_by":"deployfunctions"}}""");

        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());

        await Eventually.TrueAsync(() => pipeline.Deployments().Any(d => d.Creator == StandInState.AppLogin && pipeline.StatesOf(d).Contains("success")),
            "the app's own deployment of the merge, carried out");

        // And after: the merge's approval (with its deployment) is in the ledger now; hers still is not that deployment.
        var after = await AsMalloryAsync(pipeline, HttpMethod.Post, "/repos/Codertocat/Hello-World/deployments",
            $$$"""{"ref":"{{{MergeSha}}}","environment":"production","required_contexts":[],"auto_merge":false,"payload":{"created_by":"deployfunctions"}}""");
        await Eventually.TrueAsync(() => pipeline.GitHub.State.DeliveryLog().Any(d => d.Event == "deployment" && (long?)d.Payload["deployment"]?["id"] == (long)after!["id"]!),
            "her second deployment's event delivered");
        await Task.Delay(1500);

        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        foreach (var id in new[] { (long)forged!["id"]!, (long)after!["id"]! })
        {
            Assert.Empty(StatesOf(pipeline, id));
            Assert.Null(await ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", id, CancellationToken.None));
        }
    }

    [Fact]
    public async Task A_collaborators_deployment_claiming_a_commands_comment_is_never_adopted()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.Pipeline.GitHub.WebhookUrl = null;
        var command = room.State.AddComment(room.Pull.Repository, 7, "alice", "User", ".deploy", DateTimeOffset.UtcNow);
        var forged = await AsMalloryAsync(room.Pipeline, HttpMethod.Post, "/repos/octo/app/deployments",
            $$$"""{"ref":"{{{CommandRoom.HeadSha}}}","environment":"production","required_contexts":[],"payload":{"comment_id":"{{{command.Id}}}"}}""");
        room.Pipeline.GitHub.WebhookUrl = room.Pipeline.Ingress.WebhookUrl;

        await room.Pipeline.DeliverAsync("issue_comment", room.Pipeline.GitHub.CommentPayload(room.Pull, command));

        var reply = await room.AnsweredAsync(command, "rocket");
        Assert.Contains("Deployed", reply.Body, StringComparison.Ordinal);
        Assert.Empty(StatesOf(room.Pipeline, (long)forged!["id"]!));
        Assert.Contains(room.Deployments(), d => d.Creator == StandInState.AppLogin && room.Pipeline.StatesOf(d).Contains("success"));
    }

    [Fact]
    public async Task A_forged_success_status_neither_answers_the_command_nor_settles_the_deployment()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Environments:production:Provider"] = "github-actions";
            s["Environments:production:Workflow"] = "deploy.yml";
        });
        var command = room.Say("alice", ".deploy");
        await Eventually.TrueAsync(() => Runs(room.State).Count == 1, "the workflow dispatched");
        var deployment = Assert.Single(room.Deployments());

        await AsMalloryAsync(room.Pipeline, HttpMethod.Post, $"/repos/octo/app/deployments/{deployment.Id}/statuses",
            """{"state":"success","environment_url":"https://evil.example/","description":"Deployed"}""");
        await Task.Delay(1500);

        Assert.Empty(room.RepliesTo(command));
        var ledger = room.Pipeline.Services.GetRequiredService<IDeploymentLedger>();
        Assert.NotEqual(LedgerState.Succeeded, (await ledger.FindDeploymentAsync(CommandRoom.Repository, "production", deployment.Id, CancellationToken.None))!.State);

        room.Pipeline.GitHub.CompleteRun(Runs(room.State)[0].Id, "success"); // the workflow run the app dispatched
        var reply = await room.AnsweredAsync(command, "rocket");
        Assert.Contains("🚀 Deployed 1111111 to production", reply.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", reply.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_watchdog_never_records_a_result_from_a_status_the_app_did_not_post()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite, s =>
        {
            s["Environments:production:Provider"] = "github-actions";
            s["Environments:production:Workflow"] = "deploy.yml";
            s["Environments:production:WatchdogMinutes"] = "0.005";
        });
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());
        var ledger = pipeline.Services.GetRequiredService<IDeploymentLedger>();
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1, "the deployment");
        var id = pipeline.Deployments()[0].Id;
        await Eventually.TrueAsync(async () => (await ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", id, CancellationToken.None))?.State == LedgerState.HandedOff, "handed to the workflow");
        await AsMalloryAsync(pipeline, HttpMethod.Post, $"/repos/Codertocat/Hello-World/deployments/{id}/statuses", """{"state":"success"}""");
        await Task.Delay(500);

        await pipeline.Services.GetRequiredService<DeploymentWatchdog>().RunAsync(CancellationToken.None);

        Assert.Equal(LedgerState.HandedOff, (await ledger.FindDeploymentAsync("Codertocat/Hello-World", "production", id, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task A_commands_deployment_event_that_outruns_GitHubs_lost_answer_waits_for_the_ledger_and_runs()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        // GitHub creates the deployment (and sends its webhook at once), but its answer never reaches the app in time.
        room.State.AddFault(new Fault("POST", "/repos/octo/app/deployments", 0) { AfterHandling = true, Delay = TimeSpan.FromSeconds(8) });

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");

        Assert.Contains("🚀 Deployed 1111111 to production", reply.Body, StringComparison.Ordinal);
        var deployment = Assert.Single(room.Deployments());
        Assert.Equal(["in_progress", "success"], room.Pipeline.StatesOf(deployment));
    }

    [Fact]
    public async Task A_protection_rule_for_a_run_the_app_dispatched_is_judged_by_the_command_that_caused_it()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Environments:production:Provider"] = "github-actions";
            s["Environments:production:Workflow"] = "deploy.yml";
            s["Protection:PollSeconds"] = "0.3";
            s["Protection:MaxWaitMinutes"] = "0.05";
        });
        await room.AnsweredAsync(room.Say("alice", ".lock production"), "rocket");
        room.Say("alice", ".deploy"); // the lock's holder may deploy
        await Eventually.TrueAsync(() => Runs(room.State).Count == 1, "the workflow dispatched");

        // The workflow's 'environment: production' job asks the protection rule; the run's actor is the app.
        var run = Runs(room.State)[0];
        await room.Pipeline.DeliverAsync("deployment_protection_rule",
            room.Pipeline.GitHub.ProtectionRuleRequested(room.Pull.Repository, "production", CommandRoom.HeadSha, run.Id, StandInState.AppLogin, 42));

        await Eventually.TrueAsync(() => !room.State.ProtectionAnswers.IsEmpty, "the answer");
        Assert.Equal("approved", Assert.Single(room.State.ProtectionAnswers).State);
    }

    [Fact]
    public async Task A_protection_rule_for_an_admins_forced_deploy_is_not_held_by_the_freeze_it_overrode()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Environments:production:Provider"] = "github-actions";
            s["Environments:production:Workflow"] = "deploy.yml";
            s["Deploy:AllowForce"] = "true";
            s["Freezes:0:Reason"] = "release freeze";
            s["Freezes:0:From"] = DateTimeOffset.UtcNow.AddHours(-1).ToString("O");
            s["Freezes:0:Until"] = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
            s["Protection:PollSeconds"] = "0.3";
            s["Protection:MaxWaitMinutes"] = "0.05";
        });
        room.Say("ada", ".deploy --force");
        await Eventually.TrueAsync(() => Runs(room.State).Count == 1, "the workflow dispatched");

        var run = Runs(room.State)[0];
        await room.Pipeline.DeliverAsync("deployment_protection_rule",
            room.Pipeline.GitHub.ProtectionRuleRequested(room.Pull.Repository, "production", CommandRoom.HeadSha, run.Id, StandInState.AppLogin, 42));

        await Eventually.TrueAsync(() => !room.State.ProtectionAnswers.IsEmpty, "the answer");
        Assert.Equal("approved", Assert.Single(room.State.ProtectionAnswers).State);
    }

    private static List<StandInWorkflowRun> Runs(StandInState state)
    {
        lock (state.Gate)
        {
            return [.. state.WorkflowRuns];
        }
    }
}
