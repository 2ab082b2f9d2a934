using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Commands;

/// <summary>
/// A pull request head that lacks commits of its base or of the stable branch would roll them back where it deploys
/// (branch-deploy's <c>outdated_mode</c> / <c>update_branch</c>), end to end through the stand-in's compare answers.
/// </summary>
public sealed class OutdatedBranchTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Repository = CommandRoom.Repository;
    private const string HeadSha = CommandRoom.HeadSha;

    [Theory]
    [InlineData("strict", "release", "main", new[] { "release", "main" })]
    [InlineData("strict", "main", "main", new[] { "main" })]
    [InlineData("pr_base", "release", "main", new[] { "release" })]
    [InlineData("default_branch", "release", "main", new[] { "main" })]
    public void Each_mode_compares_with_the_branches_branch_deploy_documents(string mode, string baseRef, string stable, string[] expected)
    {
        Assert.Equal(expected, DeployFunctions.Commands.OutdatedBranches.BranchesFor(mode, baseRef, stable));
    }

    [Fact]
    public async Task A_head_behind_its_base_is_refused_with_how_far_and_a_compare_link_and_nothing_is_deployed()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.State.Behind[(Repository, "main", HeadSha)] = 3;

        var command = room.Say("alice", ".deploy");

        var reply = await room.AnsweredAsync(command, "confused");
        Assert.Contains("3 commits behind `main`", reply.Body, StringComparison.Ordinal);
        Assert.Contains($"(https://github.com/{Repository}/compare/main...{HeadSha})", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
        Assert.Empty(room.State.BranchUpdates);
    }

    [Fact]
    public async Task A_noop_is_held_to_the_same_rule_and_a_rollback_is_not()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.State.Behind[(Repository, "main", HeadSha)] = 1;

        var noop = room.Say("alice", ".noop");
        var noopReply = await room.AnsweredAsync(noop, "confused");
        var rollback = room.Say("alice", ".deploy main");
        await room.AnsweredAsync(rollback, "rocket");

        Assert.Contains("1 commit behind `main`", noopReply.Body, StringComparison.Ordinal);
        Assert.Equal(CommandRoom.StableSha, Assert.Single(room.Deployments()).Sha);
    }

    [Fact]
    public async Task Strict_also_holds_a_head_behind_the_stable_branch_which_pr_base_does_not_look_at()
    {
        const string ReleaseHead = "2222222222222222222222222222222222222222";
        void Configure(Dictionary<string, string?> s) => s["Deploy:BranchEnvironments"] = "main=production;release=staging";
        await using (var strict = await CommandRoom.OpenAsync(azurite, Configure))
        {
            var pull = strict.Open(8, ReleaseHead, baseRef: "release");
            strict.State.Behind[(Repository, "main", ReleaseHead)] = 2;

            var reply = await strict.AnsweredAsync(strict.Say("alice", ".deploy to staging", pull), "confused", pull);

            Assert.Contains("2 commits behind `main`", reply.Body, StringComparison.Ordinal);
            Assert.Empty(strict.Deployments());
        }

        await using var lenient = await CommandRoom.OpenAsync(azurite, s =>
        {
            Configure(s);
            s["Commands:OutdatedMode"] = "pr_base";
        });
        var release = lenient.Open(8, ReleaseHead, baseRef: "release");
        lenient.State.Behind[(Repository, "main", ReleaseHead)] = 2;

        await lenient.AnsweredAsync(lenient.Say("alice", ".deploy to staging", release), "rocket", release);

        Assert.Equal((ReleaseHead, "staging"), (Assert.Single(lenient.Deployments()).Sha, Assert.Single(lenient.Deployments()).Environment));
    }

    [Fact]
    public async Task Force_asks_GitHub_to_update_the_branch_with_its_base_and_deploys_nothing_yet()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:UpdateBranch"] = "force");
        room.State.Behind[(Repository, "main", HeadSha)] = 2;

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("I asked GitHub to update it with `main`", reply.Body, StringComparison.Ordinal);
        Assert.Equal((Repository, 7L, HeadSha), Assert.Single(room.State.BranchUpdates));
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task Disabled_deploys_an_outdated_head_without_comparing_and_a_file_cannot_choose_it()
    {
        await using (var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:UpdateBranch"] = "disabled"))
        {
            room.State.Behind[(Repository, "main", HeadSha)] = 5;

            await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");

            Assert.Single(room.Deployments());
            Assert.DoesNotContain(room.State.Requests, r => r.Path.Contains("/compare/", StringComparison.Ordinal));
        }

        await using var narrowed = await CommandRoom.OpenAsync(azurite);
        narrowed.State.Files[(Repository, ".github/deployfunctions.yml")] = "commands:\n  update_branch: disabled\n";
        narrowed.State.Behind[(Repository, "main", HeadSha)] = 5;

        var reply = await narrowed.AnsweredAsync(narrowed.Say("alice", ".deploy"), "confused");

        Assert.Contains("commands.update_branch", reply.Body, StringComparison.Ordinal);
        Assert.Empty(narrowed.Deployments());
    }

    [Fact]
    public async Task A_file_may_make_the_check_stricter()
    {
        const string ReleaseHead = "2222222222222222222222222222222222222222";
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Deploy:BranchEnvironments"] = "main=production;release=staging";
            s["Commands:OutdatedMode"] = "pr_base";
        });
        room.State.Files[(Repository, ".github/deployfunctions.yml")] = "commands:\n  outdated_mode: strict\n";
        var pull = room.Open(8, ReleaseHead, baseRef: "release");
        room.State.Behind[(Repository, "main", ReleaseHead)] = 1;

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy to staging", pull), "confused", pull);

        Assert.Contains("1 commit behind `main`", reply.Body, StringComparison.Ordinal);
    }
}
