using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Commands;

/// <summary>Which checks must pass for a command (branch-deploy's <c>checks</c> and <c>ignored_checks</c>), end to end through the stand-in.</summary>
public sealed class CheckRulesTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string File = ".github/deployfunctions.yml";

    [Fact]
    public async Task Every_check_counts_by_default_and_the_reply_names_the_blocking_ones_with_links()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.State.AddCheckRun(CommandRoom.HeadSha, "build", "completed", "success");
        room.State.AddCheckRun(CommandRoom.HeadSha, "lint", "completed", "failure");

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("[`lint`](https://github.com/octo/app/actions/runs/", refused.Body, StringComparison.Ordinal);
        Assert.Contains("is failing on the commit (every check must pass)", refused.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("`build`", refused.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task Required_counts_only_the_checks_the_base_branch_requires()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:Checks"] = "required");
        room.Pull.RequiredChecks.Add("build");
        room.State.AddCheckRun(CommandRoom.HeadSha, "build", "completed", "success");
        room.State.AddCheckRun(CommandRoom.HeadSha, "flaky-e2e", "completed", "failure");

        await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");

        room.Pull.RequiredChecks.Add("test");
        room.State.AddCheckRun(CommandRoom.HeadSha, "test", "completed", "failure");
        var refused = await room.AnsweredAsync(room.Say("alice", ".noop"), "confused");
        Assert.Contains("`test`", refused.Body, StringComparison.Ordinal);
        Assert.Contains("the base branch's required checks must pass", refused.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("flaky-e2e", refused.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_list_counts_only_its_names_and_waits_for_one_that_has_not_reported()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:Checks"] = "build, test");
        room.State.AddCheckRun(CommandRoom.HeadSha, "build", "completed", "success");
        room.State.AddCheckRun(CommandRoom.HeadSha, "lint", "completed", "failure");

        var waiting = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        room.State.AddCheckRun(CommandRoom.HeadSha, "test", "completed", "success");
        await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");

        Assert.Contains("`test` (not reported yet)", waiting.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("lint", waiting.Body, StringComparison.Ordinal);
        Assert.Single(room.Deployments());
    }

    [Fact]
    public async Task An_ignored_check_never_blocks_and_a_repository_may_ignore_fewer_but_not_more()
    {
        await using (var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:IgnoredChecks"] = "lint; docs"))
        {
            room.State.AddCheckRun(CommandRoom.HeadSha, "lint", "completed", "failure");
            room.State.AddCheckRun(CommandRoom.HeadSha, "docs", "in_progress", null);
            await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");

            room.State.Files[(CommandRoom.Repository, File)] = "commands:\n  ignored_checks: [docs]\n";
            var fewer = await room.AnsweredAsync(room.Say("alice", ".noop"), "confused");
            Assert.Contains("`lint`", fewer.Body, StringComparison.Ordinal);
            Assert.Contains("ignored: `docs`", fewer.Body, StringComparison.Ordinal);

            room.State.Files[(CommandRoom.Repository, File)] = "commands:\n  ignored_checks: [lint, build]\n";
            var more = await room.AnsweredAsync(room.Say("alice", ".noop"), "confused");
            Assert.Contains("commands.ignored_checks: the app's settings do not ignore build", more.Body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_repository_may_ask_for_every_check_or_name_more_but_not_count_fewer()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:Checks"] = "required");
        room.State.AddCheckRun(CommandRoom.HeadSha, "lint", "completed", "failure");

        room.State.Files[(CommandRoom.Repository, File)] = "commands:\n  checks: all\n";
        var all = await room.AnsweredAsync(room.Say("alice", ".noop"), "confused");
        room.State.Files[(CommandRoom.Repository, File)] = "commands:\n  checks: [security-scan]\n";
        var named = await room.AnsweredAsync(room.Say("alice", ".noop"), "confused");
        Assert.Contains("`lint`", all.Body, StringComparison.Ordinal);
        Assert.Contains("`security-scan` (not reported yet)", named.Body, StringComparison.Ordinal);

        await using var strict = await CommandRoom.OpenAsync(azurite);
        strict.State.Files[(CommandRoom.Repository, File)] = "commands:\n  checks: required\n";
        var fewer = await strict.AnsweredAsync(strict.Say("alice", ".noop"), "confused");
        Assert.Contains("commands.checks: 'required' counts fewer checks", fewer.Body, StringComparison.Ordinal);
        Assert.Empty(strict.Deployments());
    }
}
