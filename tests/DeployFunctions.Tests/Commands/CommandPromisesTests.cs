using System.Security.Cryptography;
using System.Text;
using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Commands;

/// <summary>
/// Promises of the chat commands that a one-line change once broke without any test noticing (issue 23): each test fails
/// with that change, and names the promise it pins.
/// </summary>
public sealed class CommandPromisesTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string ConfigPath = ".github/deployfunctions.yml";

    [Fact]
    public async Task Each_reviewers_latest_review_counts_whichever_way_it_went()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        var turnedAgainst = room.Open(8, "8888888888888888888888888888888888888888", approvedBy: null);
        room.State.Review(turnedAgainst, "carol", "APPROVED");
        room.State.Review(turnedAgainst, "carol", "CHANGES_REQUESTED");
        var cameRound = room.Open(9, "9999999999999999999999999999999999999999", approvedBy: null);
        room.State.Review(cameRound, "carol", "CHANGES_REQUESTED");
        room.State.Review(cameRound, "carol", "APPROVED");

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy", turnedAgainst), "confused", turnedAgainst);
        var deployed = await room.AnsweredAsync(room.Say("alice", ".deploy", cameRound), "rocket", cameRound);

        Assert.Contains("changes are requested by @carol", refused.Body, StringComparison.Ordinal);
        Assert.Contains("Deployed 9999999", deployed.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Permission_is_GitHubs_role_name_first_so_maintain_counts_as_maintain_not_as_its_classic_write()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:MinimumPermission"] = "maintain");
        room.State.Permissions[(CommandRoom.Repository, "mona")] = "maintain"; // permission: write, role_name: maintain

        var reply = await room.AnsweredAsync(room.Say("mona", ".deploy"), "rocket");

        Assert.Contains("Deployed", reply.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pull_request_whose_head_repository_was_deleted_is_a_fork()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        var fork = room.State.ForkOf("gone", "app");
        var orphan = room.State.OpenPullRequest(room.Pull.Repository, 8, "8888888888888888888888888888888888888888", author: "gone", fork: fork);
        orphan.HeadRepositoryDeleted = true;
        room.State.Review(orphan, "carol", "APPROVED");

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy", orphan), "confused", orphan);

        Assert.Contains("is in a fork (a deleted repository)", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task Only_an_admin_may_release_someone_elses_lock_a_maintainer_may_not()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.State.Permissions[(CommandRoom.Repository, "mona")] = "maintain";
        await room.AnsweredAsync(room.Say("bob", ".lock production"), "rocket");

        var refused = await room.AnsweredAsync(room.Say("mona", ".unlock production"), "confused");

        Assert.Contains("only they or an admin can unlock it", refused.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Force_needs_the_operators_Deploy_AllowForce_whatever_the_repository_says()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Freezes:0:Reason"] = "release freeze";
            s["Freezes:0:From"] = DateTimeOffset.UtcNow.AddHours(-1).ToString("O");
            s["Freezes:0:Until"] = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
        });

        var refused = await room.AnsweredAsync(room.Say("ada", ".deploy --force"), "confused");

        Assert.Contains("`--force` is not allowed there", refused.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_reply_mark_tagged_with_an_empty_key_which_anyone_can_compute_does_not_suppress_the_answer()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        var command = room.State.AddComment(room.Pull.Repository, 7, "alice", "User", ".lock", DateTimeOffset.UtcNow);
        var key = $"reply:{command.Id}";
        var tag = Convert.ToHexStringLower(HMACSHA256.HashData(Array.Empty<byte>(), Encoding.UTF8.GetBytes("deployfunctions-comment:" + key)))[..20];
        room.State.AddComment(room.Pull.Repository, 7, "mallory", "User", $"<!-- deployfunctions:{key}:{tag} -->\nnothing to see", DateTimeOffset.UtcNow);

        await room.Pipeline.DeliverAsync("issue_comment", room.Pipeline.GitHub.CommentPayload(room.Pull, command));

        Assert.Contains("Locked production for @alice", (await room.AnsweredAsync(command, "rocket")).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_allow_list_applies_the_operators_and_the_files()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:AllowedUsers"] = "alice; bob");
        room.State.Files[(CommandRoom.Repository, ConfigPath)] = "commands:\n  allowed_users: [bob]\n";

        var alice = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        var bob = await room.AnsweredAsync(room.Say("bob", ".lock"), "rocket");

        Assert.Contains("not in this app's list", alice.Body, StringComparison.Ordinal);
        Assert.Contains("Locked production for @bob", bob.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_file_can_turn_require_approval_on_where_the_operator_has_it_off()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:RequireApproval"] = "false");
        room.State.Files[(CommandRoom.Repository, ConfigPath)] = "commands:\n  require_approval: true\n";
        var unreviewed = room.Open(8, "8888888888888888888888888888888888888888", approvedBy: null);

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy", unreviewed), "confused", unreviewed);

        Assert.Contains("has no approving review", refused.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_file_can_turn_forks_off_where_the_operator_allows_them()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:AllowForks"] = "true");
        room.State.Files[(CommandRoom.Repository, ConfigPath)] = "commands:\n  allow_forks: false\n";
        var fromFork = room.State.OpenPullRequest(room.Pull.Repository, 8, "8888888888888888888888888888888888888888", author: "someone",
            fork: room.State.ForkOf("someone", "app"));
        room.State.Review(fromFork, "carol", "APPROVED");

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy", fromFork), "confused", fromFork);

        Assert.Contains("is in a fork (someone/app)", refused.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_freeze_the_file_sets_for_one_environment_holds_that_environment_and_no_other()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Environments:staging:Provider"] = "simulated";
            s["Environments:staging:DelaySeconds"] = "0.1";
        });
        room.State.Files[(CommandRoom.Repository, ConfigPath)] =
            $"environments:\n  production:\n    freezes:\n      - from: {DateTimeOffset.UtcNow.AddHours(-1):O}\n        until: {DateTimeOffset.UtcNow.AddHours(1):O}\n        reason: launch week\n";

        var frozen = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        var staging = await room.AnsweredAsync(room.Say("alice", ".deploy to staging"), "rocket");

        Assert.Contains("production is frozen until", frozen.Body, StringComparison.Ordinal);
        Assert.Contains("launch week", frozen.Body, StringComparison.Ordinal);
        Assert.Contains("Deployed 1111111 to staging", staging.Body, StringComparison.Ordinal);
    }
}
