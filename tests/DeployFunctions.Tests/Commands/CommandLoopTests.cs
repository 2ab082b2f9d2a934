using System.Text.Json.Nodes;
using DeployFunctions.Ledger;
using DeployFunctions.Tests.Support;
using GitHubStandIn;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Commands;

/// <summary>
/// Chat commands end to end: a person comments on a pull request in the GitHub stand-in, which sends GitHub's signed
/// <c>issue_comment</c> webhook to the ingress; the command runs from its real Azurite queue through Octokit's real
/// requests; the answer is read back from the stand-in as a person would see it (reactions, replies, deployments).
/// </summary>
public sealed class CommandLoopTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Repository = CommandRoom.Repository;
    private const string HeadSha = CommandRoom.HeadSha;
    private const string StableSha = CommandRoom.StableSha;

    private Task<CommandRoom> OpenAsync(Action<Dictionary<string, string?>>? configure = null) => CommandRoom.OpenAsync(azurite, configure);

    [Fact]
    public async Task Deploy_deploys_the_pull_requests_head_and_replies_once_with_the_outcome()
    {
        await using var room = await OpenAsync();

        var command = room.Say("alice", ".deploy\nplease ship it");

        var reply = await room.AnsweredAsync(command, "rocket");
        var deployment = Assert.Single(room.Deployments());
        Assert.Equal((HeadSha, "production", "deploy"), (deployment.Sha, deployment.Environment, deployment.Task));
        Assert.Equal(["in_progress", "success"], room.Pipeline.StatesOf(deployment));
        var payload = deployment.Request["payload"]!.AsObject();
        Assert.Equal((".deploy", "alice", command.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ((string?)payload["command"], (string?)payload["deploy_user"], (string?)payload["comment_id"]));
        Assert.Contains("#issuecomment-", (string?)payload["comment_url"], StringComparison.Ordinal);
        Assert.Contains("🚀 Deployed 1111111 to production", reply.Body, StringComparison.Ordinal);
        Assert.Contains($"deployment: {deployment.Id} (success)", reply.Body, StringComparison.Ordinal);
        Assert.Equal(["eyes", "rocket"], room.State.ReactionsOn(command.Id));

        var ledger = room.Pipeline.Services.GetRequiredService<IDeploymentLedger>();
        var entry = await ledger.FindDeploymentAsync(Repository, "production", deployment.Id, CancellationToken.None);
        Assert.Equal((LedgerSources.Command, command.Id, "alice", LedgerState.Succeeded), (entry!.Source, entry.CommentId, entry.RequestedBy, entry.State));
        Assert.Equal(".deploy", entry.Command);
        Assert.Empty(room.Pipeline.Pump.Failures);
        // The app knows it has not replied yet: the conversation is never listed to look for its own reply.
        Assert.DoesNotContain(room.State.Requests, r => r.Method == "GET" && r.Path.EndsWith("/issues/7/comments", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reply_whose_answer_was_lost_is_found_and_not_posted_again()
    {
        await using var room = await OpenAsync();
        // GitHub posts the reply, but its answer never comes back (the client times out and the delivery is retried).
        room.State.AddFault(new Fault("POST", "/issues/7/comments", 0) { AfterHandling = true, Delay = TimeSpan.FromSeconds(7) });

        var command = room.Say("bob", ".lock production --reason release");

        await Eventually.TrueAsync(() => room.State.Requests.Any(r => r.Method == "GET" && r.Path.EndsWith("/issues/7/comments", StringComparison.Ordinal)),
            "the retry looking for the reply", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => QueueIsIdle(room), "the command done");
        await Task.Delay(1500);
        Assert.Contains("Locked production for @bob", Assert.Single(room.RepliesTo(command)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deploys_result_whose_reply_answer_was_lost_is_replied_once()
    {
        await using var room = await OpenAsync();
        room.State.AddFault(new Fault("POST", "/issues/7/comments", 0) { AfterHandling = true, Delay = TimeSpan.FromSeconds(7) });

        var command = room.Say("alice", ".deploy");

        await Eventually.TrueAsync(() => room.State.Requests.Any(r => r.Method == "GET" && r.Path.EndsWith("/issues/7/comments", StringComparison.Ordinal)),
            "the status delivery retried, looking for the reply", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => room.State.ReactionsOn(command.Id).Contains("rocket"), "the rocket");
        await Task.Delay(1500);
        Assert.Contains("🚀 Deployed 1111111 to production", Assert.Single(room.RepliesTo(command)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redelivered_command_creates_one_deployment_and_one_reply()
    {
        await using var room = await OpenAsync();
        room.Pipeline.GitHub.WebhookUrl = null; // the test delivers the comment itself, three times, as GitHub redelivers
        var command = room.State.AddComment(room.Pull.Repository, 7, "alice", "User", ".deploy", DateTimeOffset.UtcNow);
        var payload = room.Pipeline.GitHub.CommentPayload(room.Pull, command);
        room.Pipeline.GitHub.WebhookUrl = room.Pipeline.Ingress.WebhookUrl;

        var first = await Task.WhenAll(
            room.Pipeline.DeliverAsync("issue_comment", payload, "same-delivery"),
            room.Pipeline.DeliverAsync("issue_comment", payload, "same-delivery"));
        await room.AnsweredAsync(command, "rocket");
        Assert.Equal(202, await room.Pipeline.DeliverAsync("issue_comment", payload, "same-delivery"));
        await Eventually.TrueAsync(() => room.Pipeline.Pump.Invocations >= 1 && QueueIsIdle(room), "the redelivery handled");
        await Task.Delay(1500);

        Assert.Equal([202, 202], first);
        Assert.Single(room.Deployments());
        Assert.Single(room.RepliesTo(command));
        Assert.Empty(room.Pipeline.Pump.Failures);
    }

    [Fact]
    public async Task A_mark_a_collaborator_posted_in_advance_does_not_suppress_the_answer()
    {
        await using var room = await OpenAsync();
        var command = room.State.AddComment(room.Pull.Repository, 7, "alice", "User", ".lock --reason release", DateTimeOffset.UtcNow);
        // Marks as a collaborator can write them: untagged, and with a guessed tag.
        room.State.AddComment(room.Pull.Repository, 7, "mallory", "User", $"<!-- deployfunctions:reply:{command.Id} -->\nnothing to see", DateTimeOffset.UtcNow);
        room.State.AddComment(room.Pull.Repository, 7, "mallory", "User",
            $"<!-- deployfunctions:reply:{command.Id}:0123456789abcdef0123 -->\nnothing to see", DateTimeOffset.UtcNow);

        Assert.Equal(202, await room.Pipeline.DeliverAsync("issue_comment", room.Pipeline.GitHub.CommentPayload(room.Pull, command)));

        var reply = await room.AnsweredAsync(command, "rocket");
        Assert.Contains("Locked production for @alice", reply.Body, StringComparison.Ordinal);
    }

    private static bool QueueIsIdle(CommandRoom room) =>
        room.Pipeline.Azurite.Queues().GetQueueClient(room.Pipeline.Prefix + "-commands").GetProperties().Value.ApproximateMessagesCount == 0;

    [Fact]
    public async Task The_allow_list_admits_its_team_and_refuses_others()
    {
        await using var room = await OpenAsync(s => s["Commands:AllowedUsers"] = "dave; octo/deployers");
        room.State.TeamMembers[("octo", "deployers", "bob")] = true;

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        var allowed = await room.AnsweredAsync(room.Say("bob", ".deploy"), "rocket");

        Assert.Contains("not in this app's list", refused.Body, StringComparison.Ordinal);
        Assert.Contains("Deployed", allowed.Body, StringComparison.Ordinal);
        Assert.Single(room.Deployments());
    }

    [Fact]
    public async Task A_fork_head_is_refused_unless_forks_are_allowed()
    {
        await using var room = await OpenAsync();
        var fork = room.State.ForkOf("mallory", "app");
        var pull = room.State.OpenPullRequest(room.Pull.Repository, 8, "ffffffffffffffffffffffffffffffffffffffff", author: "mallory", fork: fork);
        room.State.Review(pull, "carol", "APPROVED");

        var command = room.Say("alice", ".deploy", pull);
        await Eventually.TrueAsync(() => room.State.ReactionsOn(command.Id).Contains("confused"), "a refusal");

        var reply = Assert.Single(room.RepliesTo(command, pull));
        Assert.Contains("is in a fork (mallory/app)", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_branch_without_approval_or_with_changes_requested_is_refused()
    {
        await using var room = await OpenAsync();
        var unreviewed = room.State.OpenPullRequest(room.Pull.Repository, 9, "9999999999999999999999999999999999999999", author: "alice");

        var command = room.Say("alice", ".deploy", unreviewed);
        await Eventually.TrueAsync(() => room.State.ReactionsOn(command.Id).Contains("confused"), "a refusal");
        Assert.Contains("has no approving review", Assert.Single(room.RepliesTo(command, unreviewed)).Body, StringComparison.Ordinal);

        room.State.Permissions[(Repository, "dave")] = "write"; // a reviewer whose review counts (GitHub ignores others')
        room.State.Review(room.Pull, "dave", "CHANGES_REQUESTED");
        var blocked = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        Assert.Contains("changes are requested by @dave", blocked.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task An_approval_of_an_earlier_commit_does_not_cover_a_commit_pushed_after_it()
    {
        await using var room = await OpenAsync();
        room.Pull.HeadSha = "2222222222222222222222222222222222222222"; // pushed after carol approved 1111111

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("has no approving review of its head commit", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task Failing_commit_checks_refuse_the_deploy_with_GitHubs_reason()
    {
        await using var room = await OpenAsync();
        room.State.AddFault(new Fault("POST", "/repos/octo/app/deployments", 409,
            """{"message":"Conflict: Commit status checks failed for feature.","documentation_url":"https://docs.github.com/rest/deployments/deployments#create-a-deployment"}"""));

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("Commit status checks failed for feature", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_deploy_during_a_freeze_is_refused_and_only_an_admin_may_force_it_where_allowed()
    {
        await using var room = await OpenAsync(s =>
        {
            s["Deploy:AllowForce"] = "true";
            s["Freezes:0:Reason"] = "release freeze";
            s["Freezes:0:From"] = DateTimeOffset.UtcNow.AddHours(-1).ToString("O");
            s["Freezes:0:Until"] = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
        });
        room.State.Review(room.Pull, "ada", "APPROVED");

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        var notAdmin = await room.AnsweredAsync(room.Say("alice", ".deploy --force"), "confused");
        var forced = await room.AnsweredAsync(room.Say("ada", ".deploy --force"), "rocket");

        Assert.Contains("production is frozen until", refused.Body, StringComparison.Ordinal);
        Assert.Contains("release freeze", refused.Body, StringComparison.Ordinal);
        Assert.Contains("An admin can override it with `.deploy --force`", refused.Body, StringComparison.Ordinal);
        Assert.Contains("only an admin can `--force` it", notAdmin.Body, StringComparison.Ordinal);
        Assert.Contains("Deployed", forced.Body, StringComparison.Ordinal);
        Assert.Single(room.Deployments());
    }

    [Fact]
    public async Task Force_is_refused_where_the_repository_file_forbids_it()
    {
        await using var room = await OpenAsync(s =>
        {
            s["Deploy:AllowForce"] = "true";
            s["Freezes:0:Reason"] = "release freeze";
            s["Freezes:0:Cron"] = "* * * * *";
            s["Freezes:0:Duration"] = "5m";
        });
        room.State.Files[(Repository, ".github/deployfunctions.yml")] = "environments:\n  production:\n    allow_force: false\n";

        var refused = await room.AnsweredAsync(room.Say("ada", ".deploy --force"), "confused");

        Assert.Contains("`--force` is not allowed there", refused.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task The_repository_file_on_the_base_branch_narrows_who_may_run_commands()
    {
        await using var room = await OpenAsync();
        room.State.Files[(Repository, ".github/deployfunctions.yml")] = "commands:\n  minimum_permission: admin\n";

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("commands need admin", refused.Body, StringComparison.Ordinal);
        Assert.Contains(room.State.Requests, r => r.Path.EndsWith("/contents/.github/deployfunctions.yml", StringComparison.Ordinal) && r.Query == "?ref=main");
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_file_that_would_widen_the_settings_refuses_commands_with_the_reasons()
    {
        await using var room = await OpenAsync();
        room.State.Files[(Repository, ".github/deployfunctions.yml")] = "commands:\n  allow_forks: true\n";

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("commands.allow_forks", refused.Body, StringComparison.Ordinal);
        Assert.Contains(room.State.CommitStatuses, s => s.Context == "deployfunctions/config" && s.State == "failure");
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_closed_pull_request_is_not_deployed()
    {
        await using var room = await OpenAsync();
        room.Pull.State = "closed";

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("is closed", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_locked_environment_refuses_others_lets_the_holder_deploy_and_an_admin_unlock()
    {
        await using var room = await OpenAsync();

        var locked = await room.AnsweredAsync(room.Say("bob", ".lock production --reason release freeze"), "rocket");
        Assert.Contains("Locked production for @bob (reason: `release freeze`)", locked.Body, StringComparison.Ordinal);

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        Assert.Contains("production is locked by @bob", refused.Body, StringComparison.Ordinal);
        Assert.Contains("release freeze", refused.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());

        var details = await room.AnsweredAsync(room.Say("alice", ".lock --details"), "rocket");
        Assert.Contains("locked by @bob", details.Body, StringComparison.Ordinal);
        Assert.Contains("#issuecomment-", details.Body, StringComparison.Ordinal);

        var notYours = await room.AnsweredAsync(room.Say("alice", ".unlock"), "confused");
        Assert.Contains("only they or an admin", notYours.Body, StringComparison.Ordinal);

        await room.AnsweredAsync(room.Say("bob", ".deploy"), "rocket");
        Assert.Single(room.Deployments());

        var unlocked = await room.AnsweredAsync(room.Say("ada", ".unlock production"), "rocket");
        Assert.Contains("as an admin, overriding @bob", unlocked.Body, StringComparison.Ordinal);
        await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");
        Assert.Equal(2, room.Deployments().Count);
    }

    [Fact]
    public async Task A_global_lock_holds_every_environment()
    {
        await using var room = await OpenAsync(s => s["Environments:staging:Provider"] = "simulated");

        await room.AnsweredAsync(room.Say("bob", ".lock --global"), "rocket");
        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy to staging"), "confused");
        var wcid = await room.AnsweredAsync(room.Say("alice", ".wcid"), "rocket");

        Assert.Contains("every environment (global lock) is locked by @bob", refused.Body, StringComparison.Ordinal);
        Assert.Contains("| `staging` | 🔒 @bob (global)", wcid.Body, StringComparison.Ordinal);
        Assert.Contains("| `production` | 🔒 @bob (global)", wcid.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_locks_at_once_have_one_winner()
    {
        await using var room = await OpenAsync();
        room.Pipeline.GitHub.WebhookUrl = null;
        var bob = room.State.AddComment(room.Pull.Repository, 7, "bob", "User", ".lock", DateTimeOffset.UtcNow);
        var alice = room.State.AddComment(room.Pull.Repository, 7, "alice", "User", ".lock", DateTimeOffset.UtcNow);

        await Task.WhenAll(
            room.Pipeline.DeliverAsync("issue_comment", room.Pipeline.GitHub.CommentPayload(room.Pull, bob)),
            room.Pipeline.DeliverAsync("issue_comment", room.Pipeline.GitHub.CommentPayload(room.Pull, alice)));
        await Eventually.TrueAsync(() => room.RepliesTo(bob).Count == 1 && room.RepliesTo(alice).Count == 1, "both answered");

        var replies = new[] { room.RepliesTo(bob)[0].Body, room.RepliesTo(alice)[0].Body };
        Assert.Single(replies, r => r.Contains("🔒 Locked production", StringComparison.Ordinal));
        Assert.Single(replies, r => r.Contains("I did not lock: production is locked by", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_merge_waits_for_a_lock_held_by_someone_else_and_deploys_after_unlock()
    {
        await using var room = await OpenAsync(s => s["Commands:LockPollSeconds"] = "0.3");
        var hello = room.State.Repository("Codertocat", "Hello-World");
        room.State.Permissions[("Codertocat/Hello-World", "bob")] = "write";
        var open = room.State.OpenPullRequest(hello, 9, HeadSha, author: "bob");
        var merged = room.State.OpenPullRequest(hello, 2, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
        merged.State = "closed";

        var lockCommand = room.Say("bob", ".lock", open);
        await Eventually.TrueAsync(() => room.State.ReactionsOn(lockCommand.Id).Contains("rocket"), "bob's lock");
        Assert.Equal(202, await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest()));

        await Eventually.TrueAsync(() => room.State.CommentsOn("Codertocat/Hello-World", 2).Count == 1, "the waiting notice");
        var notice = room.State.CommentsOn("Codertocat/Hello-World", 2)[0].Body;
        Assert.Contains("waits: production is locked by @bob", notice, StringComparison.Ordinal);
        await Task.Delay(1500); // several polls: still waiting, one notice
        Assert.Empty(room.Deployments());
        Assert.Single(room.State.CommentsOn("Codertocat/Hello-World", 2));

        var unlock = room.Say("bob", ".unlock", open);
        await Eventually.TrueAsync(() => room.State.ReactionsOn(unlock.Id).Contains("rocket"), "bob's unlock");
        await Eventually.TrueAsync(() => room.Deployments().Count == 1 && room.Pipeline.StatesOf(room.Deployments()[0]).Contains("success"),
            "the merge deployed");
        Assert.Equal("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", room.Deployments()[0].Sha);
    }

    [Fact]
    public async Task A_merge_gives_up_on_a_lock_after_the_configured_wait_with_a_comment()
    {
        await using var room = await OpenAsync(s => (s["Commands:LockPollSeconds"], s["Commands:LockWaitMinutes"]) = ("0.3", "0.02"));
        var hello = room.State.Repository("Codertocat", "Hello-World");
        room.State.Permissions[("Codertocat/Hello-World", "bob")] = "write";
        var open = room.State.OpenPullRequest(hello, 9, HeadSha, author: "bob");
        room.State.OpenPullRequest(hello, 2, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c").State = "closed";
        var lockCommand = room.Say("bob", ".lock", open);
        await Eventually.TrueAsync(() => room.State.ReactionsOn(lockCommand.Id).Contains("rocket"), "bob's lock");

        await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());

        await Eventually.TrueAsync(() => room.State.CommentsOn("Codertocat/Hello-World", 2).Any(c => c.Body.Contains("gave up", StringComparison.Ordinal)),
            "the give-up notice");
        await Eventually.TrueAsync(async () => await room.Pipeline.PoisonCountAsync("pull-requests") == 1, "the merge kept in poison for a replay");
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task Rollback_deploys_the_stable_branch_head_without_a_review()
    {
        await using var room = await OpenAsync();
        var unreviewed = room.State.OpenPullRequest(room.Pull.Repository, 9, "9999999999999999999999999999999999999999", author: "alice");

        var command = room.Say("alice", ".deploy main", unreviewed);
        await Eventually.TrueAsync(() => room.State.ReactionsOn(command.Id).Contains("rocket"), "the rollback");

        var deployment = Assert.Single(room.Deployments());
        Assert.Equal(StableSha, deployment.Sha);
        var wrongBranch = await room.AnsweredAsync(room.Say("alice", ".deploy feature"), "confused");
        Assert.Contains("is not the stable branch `main`", wrongBranch.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Noop_reaches_every_provider_as_a_dry_run()
    {
        await using var hook = await RecordingServer.StartAsync();
        await using var room = await OpenAsync(s =>
        {
            s["Environments:staging:Provider"] = "http";
            s["Environments:staging:Url"] = hook.Url.ToString();
            s["Environments:staging:Secret"] = "a-hook-secret-of-some-length";
            s["Environments:qa:Provider"] = "github-actions";
            s["Environments:qa:Workflow"] = "deploy.yml";
        });
        var reviewed = room.State.OpenPullRequest(room.Pull.Repository, 9, "9999999999999999999999999999999999999999", author: "alice");
        room.State.Review(reviewed, "carol", "APPROVED"); // a noop is reviewed like a deploy (Commands__NoopSkipsReview)

        var noop = room.Say("alice", ".noop", reviewed);
        await Eventually.TrueAsync(() => room.State.ReactionsOn(noop.Id).Contains("rocket"), "the simulated noop");
        var simulated = Assert.Single(room.RepliesTo(noop, reviewed));
        var http = room.Say("alice", ".noop to staging", reviewed);
        var actions = room.Say("alice", ".noop to qa", reviewed);
        await Eventually.TrueAsync(() => room.State.ReactionsOn(http.Id).Contains("rocket") && hook.Received.Count == 1, "the hook's noop");
        await Eventually.TrueAsync(() => room.State.Requests.Any(r => r.Path.EndsWith("/dispatches", StringComparison.Ordinal)), "the dispatch");

        Assert.Contains("🧪 Noop of 9999999 to production finished: nothing was changed", simulated.Body, StringComparison.Ordinal);
        Assert.True((bool)JsonNode.Parse(hook.Received.Single().Body)!["noop"]!);
        var dispatch = JsonNode.Parse(room.State.Requests.Single(r => r.Path.EndsWith("/dispatches", StringComparison.Ordinal)).Body)!;
        Assert.Equal("true", (string?)dispatch["inputs"]!["noop"]);
        Assert.All(room.Deployments(), d => Assert.Equal("deploy:noop", d.Task));
        var success = room.State.Requests.Where(r => r.Path.EndsWith("/statuses", StringComparison.Ordinal) && r.Method == "POST" &&
                                                     r.Body.Contains("\"success\"", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(success);
        Assert.All(success, r => Assert.False((bool)JsonNode.Parse(r.Body)!["auto_inactive"]!)); // a dry run never retires the live deployment
    }

    [Fact]
    public async Task Help_lists_the_commands_and_environments_and_bot_comments_are_ignored()
    {
        await using var room = await OpenAsync(s => s["Environments:staging:Provider"] = "simulated");

        var help = await room.AnsweredAsync(room.Say("alice", ".help"), "rocket");
        Assert.Contains("`.deploy` / `.deploy to <env>`", help.Body, StringComparison.Ordinal);
        Assert.Contains("`production`, `staging`", help.Body, StringComparison.Ordinal);
        Assert.Contains("`.deploy main` | roll back", help.Body, StringComparison.Ordinal);
        Assert.Contains("at least `write` permission; a deploy needs an approving review of its head; forks do not deploy; " +
                        "a head behind its base or `main` is not deployed; drafts do not deploy; checks: every check must pass; " +
                        "a deploy locks its environment until it ends.", help.Body, StringComparison.Ordinal);

        // Our own reply came back as an issue_comment webhook from the bot: the ingress answered it 'ignored'.
        var bot = room.State.AddComment(room.Pull.Repository, 7, "deployfunctions[bot]", "Bot", ".deploy", DateTimeOffset.UtcNow);
        Assert.Equal(200, await room.Pipeline.DeliverAsync("issue_comment", room.Pipeline.GitHub.CommentPayload(room.Pull, bot)));
        Assert.Contains("bots never give commands", room.Pipeline.Answers.Last(), StringComparison.Ordinal);
        Assert.Equal(0, room.Pipeline.GitHub.WebhooksFailed);
        Assert.Empty(room.Deployments());
    }
}
