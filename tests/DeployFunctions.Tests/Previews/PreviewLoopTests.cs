using System.Text.Json.Nodes;
using DeployFunctions.Board;
using DeployFunctions.Previews;
using DeployFunctions.Tests.Support;
using GitHubStandIn;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Previews;

/// <summary>
/// Preview environments end to end: GitHub's pull request webhooks from the stand-in, through the ingress, the previews'
/// queue, the runner and the deploy hook (a real HTTP server), with the comment, statuses and environment as GitHub keeps them.
/// </summary>
public sealed class PreviewLoopTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string File = ".github/deployfunctions.yml";
    private const string Head = CommandRoom.HeadSha;
    private const string Second = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
    private const string Third = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";

    /// <summary>octo/app with previews on the target <c>previews</c> (the hook), pull request #7 by alice not yet announced.</summary>
    private static async Task<(CommandRoom Room, RecordingServer Hook)> OpenAsync(
        Azurite azurite, Action<Dictionary<string, string?>>? configure = null, string? file = null, CapturedLogs? logs = null)
    {
        var hook = await RecordingServer.StartAsync();
        var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Previews:Enabled"] = "true";
            s["Targets:previews:Provider"] = "http";
            s["Targets:previews:Url"] = hook.Url.ToString();
            s["Targets:previews:Secret"] = "a-preview-hook-secret-of-some-length";
            s["Targets:previews:Repositories"] = "octo/*";
            configure?.Invoke(s);
        }, logs);
        room.State.Files[(CommandRoom.Repository, File)] = file ?? "previews:\n  target: previews\n  url: https://pr-{number}.preview.example.com\n";
        return (room, hook);
    }

    /// <summary>
    /// mallory's pull request #8 from her fork, opened and shown waiting for a writer; a second later (GitHub's times are whole
    /// seconds: a comment in the push's own second cannot be told to come after it).
    /// </summary>
    private static async Task<StandInPullRequest> OpenForkAsync(CommandRoom room)
    {
        var pull = room.State.OpenPullRequest(room.Pull.Repository, 8, Head, author: "mallory", fork: room.State.ForkOf("mallory", "app"));
        room.Pipeline.GitHub.Opened(pull);
        await Eventually.TrueAsync(() => PreviewComments(room, 8).Count == 1, "the comment says why not");
        await Task.Delay(1100);
        return pull;
    }

    private static List<StandInDeployment> Previews(CommandRoom room, string environment = "pr-7") =>
        [.. room.Deployments().Where(d => d.Environment == environment)];

    private static List<StandInComment> PreviewComments(CommandRoom room, long number = 7) =>
        [.. room.State.CommentsOn(CommandRoom.Repository, number).Where(c => c.UserType == "Bot" && c.Body.Contains("Preview `pr-", StringComparison.Ordinal))];

    private static List<string> States(CommandRoom room, StandInDeployment deployment) => room.Pipeline.StatesOf(deployment);

    private static List<JsonObject> HookBodies(RecordingServer hook) => [.. hook.Received.Select(r => JsonNode.Parse(r.Body)!.AsObject())];

    [Fact]
    public async Task Opened_deploys_the_head_to_a_transient_environment_and_says_so_in_one_comment()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        room.Pipeline.GitHub.Opened(room.Pull);

        await Eventually.TrueAsync(() => Previews(room) is [var d] && States(room, d).Contains("success"), "the preview deployed");
        var deployment = Assert.Single(Previews(room));
        Assert.Equal(Head, deployment.Sha);
        Assert.Equal("deploy:preview", deployment.Task);
        Assert.True((bool)deployment.Request["transient_environment"]!);
        Assert.False((bool)deployment.Request["production_environment"]!);
        Assert.Empty(deployment.Request["required_contexts"]!.AsArray());
        Assert.Equal("https://pr-7.preview.example.com/", deployment.Statuses.Last(s => s.State == "success").EnvironmentUrl);

        var body = Assert.Single(HookBodies(hook));
        Assert.Equal("deploy", (string?)body["action"]);
        Assert.Equal("deploy:preview", (string?)body["task"]);
        Assert.Equal("pr-7", (string?)body["environment"]);

        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("✅ Live", StringComparison.Ordinal), "the comment says live");
        var comment = Assert.Single(PreviewComments(room));
        Assert.Contains("https://pr-7.preview.example.com", comment.Body, StringComparison.Ordinal);

        // The same delivery again (GitHub's redelivery keeps its payload): nothing new, and the comment still says live.
        var edits = comment.Edits;
        await room.Pipeline.DeliverAsync("pull_request", room.Pipeline.GitHub.PullRequestPayload(room.Pull, "opened", "alice"));
        await Task.Delay(1000);
        Assert.Single(Previews(room));
        Assert.Equal(edits, Assert.Single(PreviewComments(room)).Edits);
        Assert.Contains("✅ Live", Assert.Single(PreviewComments(room)).Body, StringComparison.Ordinal);
        Assert.Contains("`1111111`", comment.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(room.Deployments(), d => d.Environment == "production");

        // The board lists it apart from the environments, and it counts in none of the four keys.
        var board = await room.Pipeline.Services.GetRequiredService<BoardReader>().ReadAsync(CommandRoom.Repository, null, null, null, 100, null, CancellationToken.None);
        var shown = Assert.Single(board.Previews);
        Assert.Equal((7, "pr-7", Head, "✅ Live"), (shown.PullRequest, shown.Environment, shown.Sha, shown.Status));
        Assert.Equal("https://pr-7.preview.example.com/", shown.Url);
        Assert.DoesNotContain(board.Environments, e => e.Environment == "pr-7");
    }

    [Fact]
    public async Task A_push_updates_the_same_comment_and_a_head_pushed_over_is_superseded_not_run()
    {
        // Each run takes a second: the second push arrives while the first is running, the third before the second ran.
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        hook.Delay = TimeSpan.FromSeconds(1.5);
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => Previews(room) is [var d] && States(room, d).Contains("in_progress"), "the first run started");
        room.Pipeline.GitHub.Push(room.Pull, Second);
        await Eventually.TrueAsync(() => Previews(room).Count == 2, "the second head's deployment");
        room.Pipeline.GitHub.Push(room.Pull, Third);

        await Eventually.TrueAsync(() => Previews(room).FirstOrDefault(d => d.Sha == Third) is { } d && States(room, d).Contains("success"),
            "the newest head deployed", TimeSpan.FromSeconds(30));
        var second = Assert.Single(Previews(room), d => d.Sha == Second);
        await Eventually.TrueAsync(() => States(room, second).Contains("inactive"), "the head pushed over is marked inactive");
        Assert.DoesNotContain("in_progress", States(room, second));
        Assert.DoesNotContain(HookBodies(hook), b => (string?)b["sha"] == Second);
        Assert.Equal([Head, Third], HookBodies(hook).Select(b => (string?)b["sha"]).ToList());

        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("`c3c3c3c`", StringComparison.Ordinal) &&
                                         c.Body.Contains("✅ Live", StringComparison.Ordinal), "one comment, about the newest head");
        var comment = Assert.Single(PreviewComments(room));
        Assert.True(comment.Edits > 0);
        Assert.DoesNotContain("1111111", comment.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forks_head_deploys_nothing_until_a_writer_allows_it_and_a_later_push_waits_again()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        var fork = room.State.ForkOf("mallory", "app");
        var pull = room.State.OpenPullRequest(room.Pull.Repository, 8, Head, author: "mallory", fork: fork);
        room.Pipeline.GitHub.Opened(pull);

        await Eventually.TrueAsync(() => PreviewComments(room, 8) is [var c] && c.Body.Contains("comes from a fork", StringComparison.Ordinal), "the comment says why not");
        var mallory = room.Say("mallory", ".preview", pull);
        var rita = room.Say("rita", ".preview", pull);
        await Eventually.TrueAsync(() => room.State.ReactionsOn(mallory.Id).Contains("confused") && room.State.ReactionsOn(rita.Id).Contains("confused"),
            "readers and the fork's author are refused");
        Assert.Empty(Previews(room, "pr-8"));
        Assert.Empty(hook.Received);

        await Task.Delay(1100); // GitHub's times are whole seconds: a comment in the push's own second cannot be told to come after it
        var bob = room.Say("bob", ".preview", pull);
        var reply = await room.AnsweredAsync(bob, "rocket", pull);
        Assert.Contains("allowed `1111111`", reply.Body, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => Previews(room, "pr-8") is [var d] && States(room, d).Contains("success"), "the allowed head deployed");
        await Eventually.TrueAsync(() => PreviewComments(room, 8) is [var c] && c.Body.Contains("✅ Live", StringComparison.Ordinal) &&
                                         c.Body.Contains("allowed by @bob", StringComparison.Ordinal), "the comment says live and who allowed it");
        Assert.Equal(Head, Assert.Single(Previews(room, "pr-8")).Sha);

        room.Pipeline.GitHub.Push(pull, Second, pusher: "mallory");
        await Eventually.TrueAsync(() => PreviewComments(room, 8) is [var c] && c.Body.Contains("`b2b2b2b`", StringComparison.Ordinal), "the push is shown");
        await Task.Delay(500);
        Assert.Single(Previews(room, "pr-8"));
        Assert.Contains("comes from a fork", Assert.Single(PreviewComments(room, 8)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_writers_preview_is_refused_when_the_head_moved_since_the_push_the_app_saw_or_is_not_the_commit_named()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        var pull = await OpenForkAsync(room);

        // mallory pushes just before bob's comment; GitHub has not delivered the push yet.
        lock (room.State.Gate)
        {
            pull.HeadSha = Second;
        }

        var moved = await room.AnsweredAsync(room.Say("bob", ".preview", pull), "confused", pull);
        Assert.Contains("the pull request's head moved after the comment", moved.Body, StringComparison.Ordinal);
        var named = await room.AnsweredAsync(room.Say("bob", ".preview " + Head, pull), "confused", pull);
        Assert.Contains("the head is `b2b2b2b` now, not `1111111`", named.Body, StringComparison.Ordinal);
        var own = await room.AnsweredAsync(room.Say("bob", ".preview"), "confused");
        Assert.Contains("deploys by itself on every push", own.Body, StringComparison.Ordinal);
        await Task.Delay(300);
        Assert.Empty(Previews(room, "pr-8"));
        Assert.Empty(hook.Received);
    }

    [Fact]
    public async Task Preview_on_a_closed_pull_request_deploys_nothing()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        var pull = await OpenForkAsync(room);

        room.Pipeline.GitHub.Close(pull);
        await Eventually.TrueAsync(() => PreviewComments(room, 8) is [var c] && c.Body.Contains("Removed", StringComparison.Ordinal), "removed");
        var closed = await room.AnsweredAsync(room.Say("bob", ".preview", pull), "confused", pull);
        Assert.Contains("this pull request is closed", closed.Body, StringComparison.Ordinal);
        Assert.Empty(Previews(room, "pr-8"));
        Assert.Empty(hook.Received);
    }

    [Fact]
    public async Task With_previews_off_preview_is_refused_and_nothing_is_deployed()
    {
        var (room, hook) = await OpenAsync(azurite, s => s["Previews:Enabled"] = "false");
        await using var _ = room;
        await using var __ = hook;
        var pull = room.State.OpenPullRequest(room.Pull.Repository, 8, Head, author: "mallory", fork: room.State.ForkOf("mallory", "app"));
        room.Pipeline.GitHub.Opened(pull);

        var reply = await room.AnsweredAsync(room.Say("bob", ".preview", pull), "confused", pull);
        Assert.Contains("previews are off", reply.Body, StringComparison.Ordinal);
        Assert.Empty(PreviewComments(room, 8));
        Assert.Empty(room.Deployments());
        Assert.Empty(hook.Received);
    }

    [Fact]
    public async Task A_writers_preview_never_allows_a_push_made_after_the_comment_even_when_the_comment_is_handled_later()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        var pull = await OpenForkAsync(room);

        // bob comments on what he read; mallory pushes a second later; bob's comment reaches the app after the push.
        var comment = room.State.AddComment(pull.Repository, 8, "bob", "User", ".preview", DateTimeOffset.UtcNow);
        await Task.Delay(1100);
        room.Pipeline.GitHub.Push(pull, Second, pusher: "mallory");
        await Eventually.TrueAsync(() => PreviewComments(room, 8) is [var c] && c.Body.Contains("`b2b2b2b`", StringComparison.Ordinal), "the push is seen");
        await room.Pipeline.DeliverAsync("issue_comment", room.Pipeline.GitHub.CommentPayload(pull, comment));

        var reply = await room.AnsweredAsync(comment, "confused", pull);
        Assert.Contains("the pull request's head moved after the comment", reply.Body, StringComparison.Ordinal);
        Assert.Empty(Previews(room, "pr-8"));
        Assert.Empty(hook.Received);
    }

    [Fact]
    public async Task The_cap_counts_only_deployed_previews_not_those_waiting_for_a_writer()
    {
        var (room, hook) = await OpenAsync(azurite, s => s["Previews:MaxPerRepository"] = "1");
        await using var _ = room;
        await using var __ = hook;
        var fork = room.State.OpenPullRequest(room.Pull.Repository, 8, Head, author: "mallory", fork: room.State.ForkOf("mallory", "app"));
        room.Pipeline.GitHub.Opened(fork);
        await Eventually.TrueAsync(() => PreviewComments(room, 8).Count == 1, "the fork's preview waits");

        room.Pipeline.GitHub.Opened(room.Pull);

        await Eventually.TrueAsync(() => Previews(room) is [var d] && States(room, d).Contains("success"), "the repository's own pull request deploys");
        Assert.Empty(Previews(room, "pr-8"));
    }

    [Fact]
    public async Task Two_pull_requests_opened_at_once_never_both_take_the_last_place()
    {
        var (room, hook) = await OpenAsync(azurite, s => s["Previews:MaxPerRepository"] = "1");
        await using var _ = room;
        await using var __ = hook;
        var pulls = new[] { room.Open(9, Second), room.Open(10, Third) };
        await Task.WhenAll(pulls.Select(p => room.Pipeline.DeliverAsync("pull_request", room.Pipeline.GitHub.PullRequestPayload(p, "opened", "alice"))));

        await Eventually.TrueAsync(() => PreviewComments(room, 9).Count == 1 && PreviewComments(room, 10).Count == 1, "both told");
        await Task.Delay(1000);
        Assert.Single(room.Deployments(), d => d.Environment is "pr-9" or "pr-10");
        Assert.Single(new[] { 9, 10 }, n => PreviewComments(room, n).Single().Body.Contains("previews already", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_lock_holds_a_preview_until_it_is_released_and_the_operators_freeze_on_its_target_refuses_it()
    {
        var until = DateTimeOffset.UtcNow.AddHours(1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var (room, hook) = await OpenAsync(azurite, s =>
        {
            s["Commands:LockPollSeconds"] = "0.3";
            s["Freezes:0:Environment"] = "frozen-previews";
            s["Freezes:0:From"] = DateTimeOffset.UtcNow.AddHours(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            s["Freezes:0:Until"] = until;
            s["Freezes:0:Reason"] = "release week";
            s["Targets:frozen-previews:Provider"] = "simulated";
            s["Targets:frozen-previews:Repositories"] = "octo/*";
        });
        await using var _ = room;
        await using var __ = hook;
        await room.AnsweredAsync(room.Say("bob", ".lock --global --reason demo"), "rocket");
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => Previews(room).Count == 1, "the preview's deployment created");
        await Task.Delay(1500);
        Assert.Empty(hook.Received);
        Assert.DoesNotContain("in_progress", States(room, Assert.Single(Previews(room))));

        await room.AnsweredAsync(room.Say("bob", ".unlock --global"), "rocket");
        await Eventually.TrueAsync(() => States(room, Assert.Single(Previews(room))).Contains("success"), "it runs once the lock is released");

        room.State.Files[(CommandRoom.Repository, File)] = "previews:\n  target: frozen-previews\n";
        var frozen = room.Open(9, Third);
        room.Pipeline.GitHub.Opened(frozen);
        await Eventually.TrueAsync(() => PreviewComments(room, 9) is [var c] && c.Body.Contains("frozen", StringComparison.Ordinal), "the comment says it is frozen");
        Assert.DoesNotContain("success", States(room, Assert.Single(Previews(room, "pr-9"))));
    }

    [Fact]
    public async Task Out_of_order_deliveries_never_bring_back_an_older_head_nor_a_closed_pull_requests_preview()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        var github = room.Pipeline.GitHub;

        // Two pushes in the same second, delivered newest first: the older one is not the pull request's head any more.
        var opened = github.PullRequestPayload(room.Pull, "opened", "alice");
        await room.Pipeline.DeliverAsync("pull_request", opened);
        await Eventually.TrueAsync(() => Previews(room).Count == 1, "the first head's deployment");
        JsonObject older, newer;
        lock (room.State.Gate)
        {
            room.Pull.UpdatedAt = DateTimeOffset.UtcNow.AddSeconds(5);
            room.Pull.HeadSha = Second;
            older = github.PullRequestPayload(room.Pull, "synchronize", "alice", Head, Second);
            room.Pull.HeadSha = Third;
            newer = github.PullRequestPayload(room.Pull, "synchronize", "alice", Second, Third);
        }

        await room.Pipeline.DeliverAsync("pull_request", newer);
        await Eventually.TrueAsync(() => Previews(room).Any(d => d.Sha == Third), "the newest head's deployment");
        await room.Pipeline.DeliverAsync("pull_request", older);
        await Task.Delay(1000);
        Assert.DoesNotContain(Previews(room), d => d.Sha == Second);

        // A close handled before the open of another pull request: the late open deploys nothing.
        var late = room.Open(9, Second);
        var lateOpen = github.PullRequestPayload(late, "opened", "alice");
        github.Close(late);
        var store = room.Pipeline.Services.GetRequiredService<IPreviewStore>();
        await Eventually.TrueAsync(async () => await store.GetAsync(CommandRoom.Repository, 9, CancellationToken.None) is { State: PreviewState.Removed }, "the close is remembered");
        await room.Pipeline.DeliverAsync("pull_request", lateOpen);
        await Task.Delay(1000);
        Assert.Empty(Previews(room, "pr-9"));
        Assert.Empty(PreviewComments(room, 9));
    }

    [Fact]
    public async Task An_older_push_delivered_late_is_not_deployed_and_a_newer_one_in_the_same_second_is()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        var github = room.Pipeline.GitHub;
        github.Opened(room.Pull);
        await Eventually.TrueAsync(() => Previews(room).Count == 1, "the first head's deployment");
        JsonObject older, newer, newest;
        lock (room.State.Gate)
        {
            room.Pull.UpdatedAt = DateTimeOffset.UtcNow.AddSeconds(5);
            room.Pull.HeadSha = Second;
            older = github.PullRequestPayload(room.Pull, "synchronize", "alice", Head, Second);
            room.Pull.UpdatedAt = DateTimeOffset.UtcNow.AddSeconds(10);
            room.Pull.HeadSha = Third;
            newer = github.PullRequestPayload(room.Pull, "synchronize", "alice", Second, Third);
        }

        await room.Pipeline.DeliverAsync("pull_request", newer);
        await Eventually.TrueAsync(() => Previews(room).Any(d => d.Sha == Third), "the newer head's deployment");
        await room.Pipeline.DeliverAsync("pull_request", older); // five seconds older, delivered late
        await Task.Delay(1000);
        Assert.DoesNotContain(Previews(room), d => d.Sha == Second);

        // A push in the same second as the head shown, and the pull request's live head: it wins.
        const string Fourth = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";
        lock (room.State.Gate)
        {
            room.Pull.HeadSha = Fourth;
            newest = github.PullRequestPayload(room.Pull, "synchronize", "alice", Third, Fourth);
        }

        await room.Pipeline.DeliverAsync("pull_request", newest);
        await Eventually.TrueAsync(() => Previews(room).FirstOrDefault(d => d.Sha == Fourth) is { } d && States(room, d).Contains("success"), "the newest head deployed");
    }

    [Fact]
    public async Task A_deployment_held_by_a_lock_never_runs_once_its_pull_request_closed()
    {
        var (room, hook) = await OpenAsync(azurite, s => s["Commands:LockPollSeconds"] = "0.3");
        await using var _ = room;
        await using var __ = hook;
        await room.AnsweredAsync(room.Say("bob", ".lock --global"), "rocket");
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => Previews(room).Count == 1, "the preview's deployment created, held");

        room.Pipeline.GitHub.Close(room.Pull);
        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("🧹 Removed", StringComparison.Ordinal), "removed");
        await room.AnsweredAsync(room.Say("bob", ".unlock --global"), "rocket");
        await Eventually.TrueAsync(() => States(room, Assert.Single(Previews(room))).Any(s => s is "failure" or "error"), "the held deployment is refused");

        Assert.DoesNotContain(HookBodies(hook), b => (string?)b["action"] == "deploy");
        Assert.DoesNotContain("success", States(room, Assert.Single(Previews(room))));
    }

    [Fact]
    public async Task A_create_whose_answer_was_lost_is_found_again_not_made_twice()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        // GitHub creates the deployment, but its answer is held past the client's timeout (5 s here).
        room.State.AddFault(new Fault("POST", "/repos/octo/app/deployments", 0) { AfterHandling = true, Delay = TimeSpan.FromSeconds(8) });
        room.Pipeline.GitHub.Opened(room.Pull);

        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("✅ Live", StringComparison.Ordinal),
            "the preview is live", TimeSpan.FromSeconds(40));
        var deployment = Assert.Single(Previews(room));
        Assert.Contains("success", States(room, deployment));
        Assert.Single(HookBodies(hook));
    }

    [Fact]
    public async Task A_close_being_retried_does_not_remove_the_preview_of_the_pull_request_reopened_since()
    {
        var (room, hook) = await OpenAsync(azurite, s => s["Previews:TeardownRetrySeconds"] = "2");
        await using var _ = room;
        await using var __ = hook;
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("✅ Live", StringComparison.Ordinal), "the preview is live");

        hook.Status = 500;
        room.Pipeline.GitHub.Close(room.Pull);
        await Eventually.TrueAsync(() => HookBodies(hook).Any(b => (string?)b["action"] == "destroy"), "the first teardown failed");
        hook.Status = 200;
        room.Pipeline.GitHub.Reopen(room.Pull);
        await Eventually.TrueAsync(() => Previews(room).Count == 2 && States(room, Previews(room).MaxBy(d => d.Id)!).Contains("success"), "the reopened pull request's preview");
        await Task.Delay(3500); // past the close's retry

        Assert.Single(HookBodies(hook), b => (string?)b["action"] == "destroy");
        Assert.DoesNotContain("inactive", States(room, Previews(room).MaxBy(d => d.Id)!));
        Assert.Empty(room.State.DeletedEnvironments);
        Assert.Contains("✅ Live", Assert.Single(PreviewComments(room)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_close_waits_for_a_deployment_the_hook_is_still_carrying_out()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        hook.Status = 202; // accepted: the hook reports later
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => Previews(room) is [var d] && States(room, d).Contains("in_progress") && hook.Received.Count == 1, "the hook took it");

        room.Pipeline.GitHub.Close(room.Pull);
        await Task.Delay(1500);

        Assert.DoesNotContain(HookBodies(hook), b => (string?)b["action"] == "destroy");
        Assert.Empty(room.State.DeletedEnvironments);
        Assert.DoesNotContain("Removed", Assert.Single(PreviewComments(room)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_push_to_a_preview_costs_five_counted_calls_and_a_close_three_plus_one_per_deployment()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("✅ Live", StringComparison.Ordinal), "the preview is live");
        await Task.Delay(500);

        var before = room.State.Requests.Count;
        room.Pipeline.GitHub.Push(room.Pull, Second);
        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("`b2b2b2b`", StringComparison.Ordinal) &&
                                         c.Body.Contains("✅ Live", StringComparison.Ordinal), "the push is live");
        await Task.Delay(500); // anything late would show
        var push = room.State.Requests.Skip(before).Where(r => r.Status != 304).Select(r => $"{r.Method} {r.Path}").ToList();

        before = room.State.Requests.Count;
        room.Pipeline.GitHub.Close(room.Pull);
        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("🧹 Removed", StringComparison.Ordinal), "removed");
        await Task.Delay(500);
        var close = room.State.Requests.Skip(before).Where(r => r.Status != 304).Select(r => $"{r.Method} {r.Path}").ToList();

        // A push: the deployment, in_progress and success, and the comment edited twice (deploying, live); never a new comment.
        Assert.True(push.Count == 5, $"push: {string.Join(", ", push)}");
        Assert.Equal(2, push.Count(c => c.StartsWith("PATCH /repos/octo/app/issues/comments/", StringComparison.Ordinal)));
        Assert.Single(push, c => c == "POST /repos/octo/app/deployments");
        // A close: the list, an inactive status per deployment (two), the environment, the comment.
        Assert.True(close.Count == 5, $"close: {string.Join(", ", close)}");
        Assert.Equal(2, close.Count(c => c.EndsWith("/statuses", StringComparison.Ordinal)));
        Assert.Single(close, c => c == "DELETE /repos/octo/app/environments/pr-7");
    }

    [Fact]
    public async Task Closing_tears_down_through_the_hook_marks_every_deployment_inactive_and_deletes_the_environment()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => Previews(room) is [var d] && States(room, d).Contains("success"), "the preview deployed");

        room.Pipeline.GitHub.Close(room.Pull);

        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("🧹 Removed", StringComparison.Ordinal), "the comment says removed");
        var destroy = Assert.Single(HookBodies(hook), b => (string?)b["action"] == "destroy");
        Assert.Equal("pr-7", (string?)destroy["environment"]);
        Assert.Equal("inactive", States(room, Assert.Single(Previews(room))).Last());
        Assert.Contains((CommandRoom.Repository, "pr-7"), room.State.DeletedEnvironments);
        Assert.DoesNotContain("https://pr-7.preview.example.com", Assert.Single(PreviewComments(room)).Body, StringComparison.Ordinal);
        var removed = Assert.Single(PreviewComments(room));
        await Task.Delay(2000); // the inactive statuses come back as webhooks: they change nothing
        Assert.Equal((removed.Edits, removed.Body), (Assert.Single(PreviewComments(room)).Edits, Assert.Single(PreviewComments(room)).Body));

        // A push delivered late, after the close, deploys nothing.
        await room.Pipeline.DeliverAsync("pull_request", room.Pipeline.GitHub.PullRequestPayload(room.Pull, "synchronize", "alice", Head, Head));
        await Task.Delay(500);
        Assert.Single(Previews(room));
    }

    [Fact]
    public async Task Without_the_right_to_delete_environments_the_environment_is_kept_and_the_preview_still_removed()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        room.State.AddFault(new Fault("DELETE", "/environments/pr-7", 403,
            """{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/deployments/environments#delete-an-environment","status":"403"}"""));
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => Previews(room) is [var d] && States(room, d).Contains("success"), "the preview deployed");

        room.Pipeline.GitHub.Close(room.Pull);

        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("🧹 Removed", StringComparison.Ordinal), "the comment says removed");
        Assert.Empty(room.State.DeletedEnvironments);
        Assert.Equal("inactive", States(room, Assert.Single(Previews(room))).Last());
        Assert.Single(HookBodies(hook), b => (string?)b["action"] == "destroy");
        Assert.Equal(0, await room.Pipeline.PoisonCountAsync("previews"));
    }

    [Fact]
    public async Task A_lost_close_and_an_idle_preview_are_removed_by_the_timer()
    {
        var (room, hook) = await OpenAsync(azurite);
        await using var _ = room;
        await using var __ = hook;
        var idle = room.Open(9, Third);
        room.Pipeline.GitHub.Opened(room.Pull);
        room.Pipeline.GitHub.Opened(idle);
        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("✅ Live", StringComparison.Ordinal) &&
                                         PreviewComments(room, 9) is [var e] && e.Body.Contains("✅ Live", StringComparison.Ordinal), "both previews live");

        room.Pipeline.GitHub.Close(room.Pull, merged: true, deliver: false);
        var sweeper = room.Pipeline.Services.GetRequiredService<PreviewSweeper>();
        Assert.Equal(1, await sweeper.RunAsync(CancellationToken.None));

        Assert.Contains("🧹 Removed (the pull request was merged)", Assert.Single(PreviewComments(room)).Body, StringComparison.Ordinal);
        Assert.Equal("inactive", States(room, Assert.Single(Previews(room))).Last());
        Assert.Single(HookBodies(hook), b => (string?)b["action"] == "destroy");
        Assert.DoesNotContain("inactive", States(room, Assert.Single(Previews(room, "pr-9"))));
        Assert.Equal(0, await sweeper.RunAsync(CancellationToken.None)); // the open, recently pushed one stays
        var kept = await room.Pipeline.Services.GetRequiredService<IPreviewStore>().GetAsync(CommandRoom.Repository, 7, CancellationToken.None);
        Assert.Equal(PreviewState.Removed, kept!.State); // the removed row is kept (pruned after 30 days), so a late push is known to be older
    }

    [Fact]
    public async Task An_idle_preview_is_removed_after_IdleDays()
    {
        var (room, hook) = await OpenAsync(azurite, s => s["Previews:IdleDays"] = "0.00001"); // under a second
        await using var _ = room;
        await using var __ = hook;
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => Previews(room) is [var d] && States(room, d).Contains("success"), "the preview deployed");
        await Task.Delay(1000);

        Assert.Equal(1, await room.Pipeline.Services.GetRequiredService<PreviewSweeper>().RunAsync(CancellationToken.None));
        Assert.Contains("no push for", Assert.Single(PreviewComments(room)).Body, StringComparison.Ordinal);
        Assert.Equal("inactive", States(room, Assert.Single(Previews(room))).Last());
    }

    [Fact]
    public async Task A_teardown_that_keeps_failing_is_retried_then_reported_once()
    {
        var slack = await RecordingServer.StartAsync();
        await using var ___ = slack;
        var (room, hook) = await OpenAsync(azurite, s =>
        {
            s["Previews:TeardownAttempts"] = "3";
            s["Previews:TeardownRetrySeconds"] = "0.2";
            s["Notifications:WebhookUrl"] = slack.Url.ToString();
        });
        await using var _ = room;
        await using var __ = hook;
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => Previews(room) is [var d] && States(room, d).Contains("success"), "the preview deployed");
        hook.Status = 500;

        room.Pipeline.GitHub.Close(room.Pull);

        await Eventually.TrueAsync(() => PreviewComments(room) is [var c] && c.Body.Contains("Could not be removed after 3 attempts", StringComparison.Ordinal),
            "the comment says it could not be removed", TimeSpan.FromSeconds(30));
        Assert.Equal(3, HookBodies(hook).Count(b => (string?)b["action"] == "destroy"));
        await Eventually.TrueAsync(() => slack.Received.Any(r => r.Body.Contains("could not remove", StringComparison.Ordinal)), "the operator is told");
        Assert.Single(slack.Received, r => r.Body.Contains("could not remove", StringComparison.Ordinal));
        Assert.DoesNotContain(slack.Received, r => r.Body.Contains("to pr-7: success", StringComparison.Ordinal)); // a preview's success is not news

        // A repeat of the close, and the timer, neither try it again nor report it again.
        await room.Pipeline.DeliverAsync("pull_request", room.Pipeline.GitHub.PullRequestPayload(room.Pull, "closed", "alice"));
        await Task.Delay(1000);
        Assert.Equal(0, await room.Pipeline.Services.GetRequiredService<PreviewSweeper>().RunAsync(CancellationToken.None));
        Assert.Equal(3, HookBodies(hook).Count(b => (string?)b["action"] == "destroy"));
        Assert.Single(slack.Received, r => r.Body.Contains("could not remove", StringComparison.Ordinal));
        Assert.Equal(0, await room.Pipeline.PoisonCountAsync("previews")); // reported once: not poisoned, which the poison watch would report again
    }

    [Fact]
    public async Task Previews_past_the_cap_wait_and_none_deploy_without_the_repositorys_previews_section()
    {
        var (room, hook) = await OpenAsync(azurite, s => s["Previews:MaxPerRepository"] = "1");
        await using var _ = room;
        await using var __ = hook;
        room.Pipeline.GitHub.Opened(room.Pull);
        await Eventually.TrueAsync(() => Previews(room) is [var d] && States(room, d).Contains("success"), "the first preview deployed");

        var second = room.Open(9, Third);
        room.Pipeline.GitHub.Opened(second);
        await Eventually.TrueAsync(() => PreviewComments(room, 9) is [var c] && c.Body.Contains("previews already", StringComparison.Ordinal), "the second is told");
        Assert.Empty(Previews(room, "pr-9"));

        room.State.Files[(CommandRoom.Repository, File)] = "environments: {}\n";
        var third = room.Open(10, Second);
        room.Pipeline.GitHub.Opened(third);
        await Task.Delay(1000);
        Assert.Empty(Previews(room, "pr-10"));
        Assert.Empty(PreviewComments(room, 10));
    }
}
