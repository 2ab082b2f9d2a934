using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Commands;

/// <summary>
/// What a <c>github/branch-deploy</c> user types on the first day: <c>.deploy staging</c> for <c>.deploy to staging</c>, and
/// an operator who wants every deploy to say where (<c>disable_naked_commands</c>), end to end through the stand-in.
/// </summary>
public sealed class CommandShorthandTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Repository = CommandRoom.Repository;

    private Task<CommandRoom> OpenAsync(Action<Dictionary<string, string?>>? configure = null) => CommandRoom.OpenWithStagingAsync(azurite, configure);

    [Fact]
    public async Task Deploy_and_noop_with_an_environment_name_mean_to_that_environment()
    {
        await using var room = await OpenAsync();

        await room.AnsweredAsync(room.Say("alice", ".deploy staging"), "rocket");
        await room.AnsweredAsync(room.Say("alice", ".noop STAGING"), "rocket");

        Assert.Equal([("staging", "deploy", CommandRoom.HeadSha), ("staging", "deploy:noop", CommandRoom.HeadSha)],
            room.Deployments().OrderBy(d => d.Id).Select(d => (d.Environment, d.Task, d.Sha)));
    }

    [Fact]
    public async Task A_name_that_is_both_the_stable_branch_and_an_environment_is_refused_with_both_spellings()
    {
        await using var room = await OpenAsync(s => s["Commands:StableBranch"] = "staging");

        var reply = await room.AnsweredAsync(room.Say("alice", ".deploy staging"), "confused");

        Assert.Contains("`staging` is both the stable branch and an environment", reply.Body, StringComparison.Ordinal);
        Assert.Contains("`.deploy to staging` deploys this pull request", reply.Body, StringComparison.Ordinal);
        Assert.Contains("`.deploy staging to production` rolls `production` back", reply.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task The_stable_branch_alone_is_still_the_rollback()
    {
        await using var room = await OpenAsync();

        await room.AnsweredAsync(room.Say("alice", ".deploy main"), "rocket");

        Assert.Equal((CommandRoom.StableSha, "production"), (Assert.Single(room.Deployments()).Sha, Assert.Single(room.Deployments()).Environment));
    }

    [Fact]
    public async Task With_naked_commands_off_a_bare_deploy_is_refused_and_a_named_one_deploys()
    {
        await using var room = await OpenAsync(s => s["Commands:DisableNakedCommands"] = "true");

        var bare = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        await room.AnsweredAsync(room.Say("alice", ".deploy to production"), "rocket");

        Assert.Contains("say where: `.deploy to <environment>`", bare.Body, StringComparison.Ordinal);
        Assert.Contains("`production`, `staging`", bare.Body, StringComparison.Ordinal);
        Assert.Equal("production", Assert.Single(room.Deployments()).Environment);
    }

    [Fact]
    public async Task A_repository_may_turn_naked_commands_off_but_never_back_on()
    {
        await using (var room = await OpenAsync())
        {
            room.State.Files[(Repository, ".github/deployfunctions.yml")] = "commands:\n  disable_naked_commands: true\n";

            var bare = await room.AnsweredAsync(room.Say("alice", ".noop"), "confused");

            Assert.Contains("say where: `.noop to <environment>`", bare.Body, StringComparison.Ordinal);
        }

        await using var widening = await OpenAsync(s => s["Commands:DisableNakedCommands"] = "true");
        widening.State.Files[(Repository, ".github/deployfunctions.yml")] = "commands:\n  disable_naked_commands: false\n";

        var refused = await widening.AnsweredAsync(widening.Say("alice", ".deploy to production"), "confused");

        Assert.Contains("commands.disable_naked_commands", refused.Body, StringComparison.Ordinal);
        Assert.Empty(widening.Deployments());
    }
}
