using DeployFunctions.Tests.Support;
using GitHubStandIn;

namespace DeployFunctions.Tests.Commands;

/// <summary>
/// branch-deploy's <c>deployment_confirmation</c>: a <c>.deploy</c> to a chosen environment asks first, and goes ahead only on
/// the commenter's 👍 within the timeout. GitHub sends no webhook for reactions, so the app reads them while it waits.
/// </summary>
public sealed class DeploymentConfirmationTests(Azurite azurite) : IClassFixture<Azurite>
{
    private static Task<CommandRoom> OpenAsync(Azurite azurite, string timeoutSeconds = "30", string pollSeconds = "0.3") =>
        CommandRoom.OpenWithStagingAsync(azurite, s =>
        {
            s["Commands:DeploymentConfirmation"] = "production";
            s["Commands:DeploymentConfirmationTimeoutSeconds"] = timeoutSeconds;
            s["Commands:DeploymentConfirmationPollSeconds"] = pollSeconds;
        });

    private static string Key(StandInComment command) => $"<!-- deployfunctions:confirm:{command.Id}:";

    private static async Task<StandInComment> QuestionAsync(CommandRoom room, StandInComment command)
    {
        StandInComment? question = null;
        await Eventually.TrueAsync(() => (question = room.State.CommentsOn(CommandRoom.Repository, 7)
            .FirstOrDefault(c => c.Body.StartsWith(Key(command), StringComparison.Ordinal))) is not null, "the confirmation question");
        return question!;
    }

    [Fact]
    public async Task A_thumbs_up_from_the_commenter_deploys_what_the_question_named()
    {
        await using var room = await OpenAsync(azurite);
        room.State.AddCheckRun(CommandRoom.HeadSha, "build", "completed", "success");

        var command = room.Say("alice", ".deploy | --canary 5");
        var question = await QuestionAsync(room, command);
        Assert.Empty(room.Deployments());
        room.State.React(question.Id, "carol", "+1"); // someone else's thumbs-up does not count
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Empty(room.Deployments());

        room.State.React(question.Id, "alice", "+1");
        var reply = await room.AnsweredAsync(command, "rocket");

        Assert.Contains("@alice, confirm: react 👍 to this comment within 30 seconds to deploy #7 (1111111) to **production**", question.Body, StringComparison.Ordinal);
        Assert.Contains("- commit: " + CommandRoom.HeadSha, question.Body, StringComparison.Ordinal);
        Assert.Contains("- live there now: nothing deployed there by this app yet", question.Body, StringComparison.Ordinal);
        Assert.Contains("- checks: 1 of 1 counted checks passed (every check must pass)", question.Body, StringComparison.Ordinal);
        Assert.Contains("- approvals: @carol", question.Body, StringComparison.Ordinal);
        Assert.Contains("- parameters: `--canary 5`", question.Body, StringComparison.Ordinal);
        Assert.Contains("🚀 Deployed 1111111 to production", reply.Body, StringComparison.Ordinal);
        Assert.Equal(CommandRoom.HeadSha, Assert.Single(room.Deployments()).Sha);
    }

    [Fact]
    public async Task A_thumbs_down_or_the_timeout_cancels_and_other_environments_are_not_asked()
    {
        await using var room = await OpenAsync(azurite, timeoutSeconds: "2");

        var declined = room.Say("alice", ".deploy");
        room.State.React((await QuestionAsync(room, declined)).Id, "alice", "-1");
        var cancelled = await room.AnsweredAsync(declined, "confused");
        var ignored = room.Say("bob", ".deploy to production");
        await QuestionAsync(room, ignored);
        var timedOut = await room.AnsweredAsync(ignored, "confused");
        await room.AnsweredAsync(room.Say("alice", ".deploy to staging"), "rocket");
        var help = await room.AnsweredAsync(room.Say("alice", ".help"), "rocket");

        Assert.Contains("a deploy to `production` waits for your 👍 on its question", help.Body, StringComparison.Ordinal);
        Assert.Contains("cancelled: you reacted 👎", cancelled.Body, StringComparison.Ordinal);
        Assert.Contains("cancelled: no 👍 from you within 2 seconds", timedOut.Body, StringComparison.Ordinal);
        Assert.Equal("staging", Assert.Single(room.Deployments()).Environment);
    }

    [Fact]
    public async Task A_push_after_the_question_is_not_deployed_on_the_old_thumbs_up()
    {
        await using var room = await OpenAsync(azurite);

        var command = room.Say("alice", ".deploy");
        var question = await QuestionAsync(room, command);
        const string Pushed = "4444444444444444444444444444444444444444";
        room.Pull.HeadSha = Pushed;
        room.State.Review(room.Pull, "carol", "APPROVED");
        room.State.React(question.Id, "alice", "+1");
        var refused = await room.AnsweredAsync(command, "confused");

        Assert.Contains("you confirmed 1111111, and it is 4444444 now", refused.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_thumbs_up_given_after_the_timeout_does_not_deploy_even_when_read_late()
    {
        await using var room = await OpenAsync(azurite, timeoutSeconds: "1", pollSeconds: "4");

        var command = room.Say("alice", ".deploy");
        var question = await QuestionAsync(room, command);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        room.State.React(question.Id, "alice", "+1"); // after the deadline, before the next look
        StandInComment refused;
        try
        {
            refused = await room.AnsweredAsync(command, "confused");
        }
        catch (Xunit.Sdk.FailException)
        {
            throw new InvalidOperationException(string.Join("\n---\n", room.State.CommentsOn(CommandRoom.Repository, 7).Select(c => $"{c.User} {c.CreatedAt:O} [{string.Join(' ', room.State.ReactionsOn(c.Id))}]: {c.Body}")));
        }


        Assert.Contains("cancelled: no 👍 from you within 1 seconds", refused.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task A_command_delivered_again_while_it_waits_asks_once_and_deploys_once()
    {
        await using var room = await OpenAsync(azurite);

        var command = room.Say("alice", ".deploy");
        var question = await QuestionAsync(room, command);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(202, await room.Pipeline.DeliverAsync("issue_comment", room.Pipeline.GitHub.CommentPayload(room.Pull, command))); // GitHub redelivers it
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        room.State.React(question.Id, "alice", "+1");
        await room.AnsweredAsync(command, "rocket");
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Single(room.State.CommentsOn(CommandRoom.Repository, 7), c => c.Body.StartsWith(Key(command), StringComparison.Ordinal));
        Assert.Single(room.Deployments());
        Assert.Single(room.RepliesTo(command));
    }
}
