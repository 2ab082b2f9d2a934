using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Commands;

/// <summary>Draft pull requests (branch-deploy's <c>draft_permitted_targets</c>), end to end through the stand-in.</summary>
public sealed class DraftPullRequestTests(Azurite azurite) : IClassFixture<Azurite>
{
    private Task<CommandRoom> OpenAsync(Action<Dictionary<string, string?>>? configure = null) => CommandRoom.OpenWithStagingAsync(azurite, configure);

    [Fact]
    public async Task A_draft_is_not_deployed_nor_its_noop_but_its_stable_branch_rollback_is()
    {
        await using var room = await OpenAsync();
        room.Pull.Draft = true;

        var deploy = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        var noop = await room.AnsweredAsync(room.Say("alice", ".noop to staging"), "confused");
        await room.AnsweredAsync(room.Say("alice", ".deploy main"), "rocket");

        Assert.Contains("pull request #7 is a draft; drafts are not deployed", deploy.Body, StringComparison.Ordinal);
        Assert.Contains("is a draft", noop.Body, StringComparison.Ordinal);
        Assert.Equal(CommandRoom.StableSha, Assert.Single(room.Deployments()).Sha);
    }

    [Fact]
    public async Task A_draft_deploys_only_to_the_permitted_targets_and_a_repository_may_permit_fewer()
    {
        await using (var room = await OpenAsync(s => s["Commands:DraftPermittedTargets"] = "staging"))
        {
            room.Pull.Draft = true;

            await room.AnsweredAsync(room.Say("alice", ".deploy to staging"), "rocket");
            var production = await room.AnsweredAsync(room.Say("alice", ".deploy to production"), "confused");

            Assert.Contains("a draft deploys only to `staging`", production.Body, StringComparison.Ordinal);
            Assert.Equal("staging", Assert.Single(room.Deployments()).Environment);
        }

        await using var narrowed = await OpenAsync(s => s["Commands:DraftPermittedTargets"] = "staging");
        narrowed.Pull.Draft = true;
        narrowed.State.Files[(CommandRoom.Repository, ".github/deployfunctions.yml")] = "commands:\n  draft_permitted_targets: []\n";

        var refused = await narrowed.AnsweredAsync(narrowed.Say("alice", ".deploy to staging"), "confused");

        Assert.Contains("drafts are not deployed", refused.Body, StringComparison.Ordinal);
        Assert.Empty(narrowed.Deployments());
    }

    [Fact]
    public async Task A_repository_cannot_let_drafts_deploy_where_the_operator_does_not()
    {
        await using var room = await OpenAsync();
        room.Pull.Draft = true;
        room.State.Files[(CommandRoom.Repository, ".github/deployfunctions.yml")] = "commands:\n  draft_permitted_targets: [production]\n";

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("commands.draft_permitted_targets", refused.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }
}
