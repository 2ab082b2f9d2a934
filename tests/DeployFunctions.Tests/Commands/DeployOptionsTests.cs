using System.Text.Json.Nodes;
using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Commands;

/// <summary>
/// branch-deploy's parameters (<c>.deploy ... | params</c>) and commit deployments (<c>.deploy &lt;sha&gt;</c>,
/// <c>allow_sha_deployments</c>), end to end through the stand-in.
/// </summary>
public sealed class DeployOptionsTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string OlderSha = "2222222222222222222222222222222222222222";

    [Fact]
    public async Task Parameters_reach_the_payload_the_hook_and_the_workflow_and_are_shown_in_the_reply()
    {
        await using var hook = await RecordingServer.StartAsync();
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Environments:staging:Provider"] = "http";
            s["Environments:staging:Url"] = hook.Url.ToString();
            s["Environments:staging:Secret"] = "a-hook-secret-of-some-length";
            s["Environments:qa:Provider"] = "github-actions";
            s["Environments:qa:Workflow"] = "deploy.yml";
        });

        var simulated = await room.AnsweredAsync(room.Say("alice", ".deploy to production | --canary 10 @bob"), "rocket");
        var quoted = await room.AnsweredAsync(room.Say("alice", ".deploy to staging | region=eu ` @octo/admins [x](https://example.com) `"), "rocket");
        room.Say("alice", ".deploy to qa");
        room.Say("alice", ".noop to qa | --plan-only");
        await Eventually.TrueAsync(() => room.State.Requests.Count(r => r.Path.EndsWith("/dispatches", StringComparison.Ordinal)) == 2, "both dispatches");

        Assert.Contains("- parameters: `--canary 10 @bob`", simulated.Body, StringComparison.Ordinal); // a code span: @bob is not notified
        var production = room.Deployments().Single(d => d.Environment == "production");
        Assert.Equal("--canary 10 @bob", (string?)production.Payload!["params"]);
        Assert.Equal("region=eu ` @octo/admins [x](https://example.com) `", (string?)JsonNode.Parse(hook.Received.Single().Body)!["params"]);
        // The commenter's backticks cannot end the code span the reply repeats the command in: no mention, no link.
        Assert.Contains("(`.deploy to staging | region=eu ' @octo/admins [x](https://example.com) '` by @alice)", quoted.Body, StringComparison.Ordinal);
        Assert.Equal(4, quoted.Body.Count(c => c == '`')); // the command's span and the parameters' span, nothing more
        var dispatches = room.State.Requests.Where(r => r.Path.EndsWith("/dispatches", StringComparison.Ordinal))
            .Select(r => JsonNode.Parse(r.Body)!["inputs"]!.AsObject()).ToList();
        Assert.Single(dispatches, i => (string?)i["params"] == "--plan-only");
        Assert.Single(dispatches, i => !i.ContainsKey("params")); // a workflow without a 'params' input still takes plain deployments
    }

    [Theory]
    [InlineData(".deploy |", "parameters after '|' must be 1-500 characters")]
    [InlineData(".deploy to production | ", "parameters after '|' must be 1-500 characters")]
    public void Empty_or_overlong_parameters_are_refused_with_the_limit(string text, string reason)
    {
        Assert.Null(DeployFunctions.Commands.ChatCommand.Parse(text, ".", out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.Null(DeployFunctions.Commands.ChatCommand.Parse(".deploy | " + new string('x', 501), ".", out problem));
        Assert.NotNull(DeployFunctions.Commands.ChatCommand.Parse(".deploy | " + new string('x', 500), ".", out _));
    }

    [Fact]
    public async Task A_commit_is_deployed_by_id_only_when_allowed_and_only_from_the_heads_history()
    {
        await using (var off = await CommandRoom.OpenAsync(azurite))
        {
            var refused = await off.AnsweredAsync(off.Say("alice", $".deploy {OlderSha}"), "confused");
            Assert.Contains("is not taken here (Commands__AllowShaDeployments)", refused.Body, StringComparison.Ordinal);
            Assert.Empty(off.Deployments());
        }

        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:AllowShaDeployments"] = "true");
        room.State.AddCheckRun(OlderSha, "build", "completed", "success");
        ApproveOlder(room, "bob");
        const string Elsewhere = "3333333333333333333333333333333333333333";
        room.State.Behind[(CommandRoom.Repository, Elsewhere, CommandRoom.HeadSha)] = 2; // not an ancestor of the head

        var deployed = room.Say("alice", $".deploy {OlderSha} to production");
        var foreign = await room.AnsweredAsync(room.Say("alice", $".deploy {Elsewhere}"), "confused");
        await room.AnsweredAsync(deployed, "rocket");

        Assert.Equal(OlderSha, Assert.Single(room.Deployments()).Sha);
        Assert.Contains($"`{Elsewhere}` is not in the history of #7's head 1111111", foreign.Body, StringComparison.Ordinal);
    }

    /// <summary><paramref name="reviewer"/> approved <see cref="OlderSha"/> when it was #7's head.</summary>
    private static void ApproveOlder(CommandRoom room, string reviewer)
    {
        room.Pull.HeadSha = OlderSha;
        room.State.Review(room.Pull, reviewer, "APPROVED");
        room.Pull.HeadSha = CommandRoom.HeadSha;
    }

    [Fact]
    public async Task A_commit_deployed_by_id_needs_its_own_approval_and_a_check_that_ran_on_it()
    {
        // A reviewer approved the head, whose diff is clean because its last commit reverts the one before: that one was never reviewed.
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:AllowShaDeployments"] = "true");
        room.State.AddCheckRun(OlderSha, "build", "completed", "success");
        const string Unchecked = "6666666666666666666666666666666666666666";
        room.Pull.HeadSha = Unchecked;
        room.State.Review(room.Pull, "bob", "APPROVED");
        room.Pull.HeadSha = CommandRoom.HeadSha;
        room.State.CommitStatuses.Enqueue((CommandRoom.Repository, Unchecked, "success", "deployfunctions/config", null)); // our own status is no check

        var unreviewed = await room.AnsweredAsync(room.Say("alice", $".deploy {OlderSha}"), "confused");
        var noChecks = await room.AnsweredAsync(room.Say("alice", $".deploy {Unchecked}"), "confused");

        Assert.Contains("has no approving review of its head commit", unreviewed.Body, StringComparison.Ordinal);
        Assert.Contains($"no counted check passed on `{Unchecked}`", noChecks.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_commit_deployed_by_id_is_held_to_its_own_checks_and_a_repository_can_turn_it_off()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:AllowShaDeployments"] = "true");
        room.State.AddCheckRun(CommandRoom.HeadSha, "build", "completed", "success");
        room.State.AddCheckRun(OlderSha, "build", "completed", "failure");
        ApproveOlder(room, "bob");

        var failing = await room.AnsweredAsync(room.Say("alice", $".deploy {OlderSha}"), "confused");
        room.State.Files[(CommandRoom.Repository, ".github/deployfunctions.yml")] = "commands:\n  allow_sha_deployments: false\n";
        var off = await room.AnsweredAsync(room.Say("alice", $".deploy {CommandRoom.HeadSha}"), "confused");

        Assert.Contains("`build`", failing.Body, StringComparison.Ordinal);
        Assert.Contains("failing on the commit", failing.Body, StringComparison.Ordinal);
        Assert.Contains("Commands__AllowShaDeployments", off.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }
}
