using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Commands;

/// <summary><c>.lock --for &lt;duration&gt;</c>: a lock that ends by itself, for commands and waiting merges alike.</summary>
public sealed class ExpiringLockTests(Azurite azurite) : IClassFixture<Azurite>
{
    [Fact]
    public async Task A_lock_taken_for_a_while_refuses_others_until_it_ends_by_itself()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);

        var taken = await room.AnsweredAsync(room.Say("bob", ".lock production --for 00:00:03 --reason db maintenance"), "rocket");
        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        var details = await room.AnsweredAsync(room.Say("alice", ".lock --details"), "rocket");
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");

        Assert.Contains("🔒 Locked production for @bob", taken.Body, StringComparison.Ordinal);
        Assert.Contains(" UTC (or `.unlock production`)", taken.Body, StringComparison.Ordinal);
        Assert.Contains("production is locked by @bob since", refused.Body, StringComparison.Ordinal);
        Assert.Contains(" until ", refused.Body, StringComparison.Ordinal);
        Assert.Contains(" until ", details.Body, StringComparison.Ordinal);
        Assert.Equal("production", Assert.Single(room.Deployments()).Environment);
    }

    [Fact]
    public async Task A_merge_waiting_behind_a_lock_that_ends_by_itself_deploys_without_anyone_acting()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:LockPollSeconds"] = "0.3");
        var hello = room.State.Repository("Codertocat", "Hello-World");
        room.State.Permissions[("Codertocat/Hello-World", "bob")] = "write";
        var open = room.State.OpenPullRequest(hello, 9, CommandRoom.HeadSha, author: "bob");
        room.State.OpenPullRequest(hello, 2, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c").State = "closed";
        var lockCommand = room.Say("bob", ".lock --for 00:00:03", open);
        await Eventually.TrueAsync(() => room.State.ReactionsOn(lockCommand.Id).Contains("rocket"), "bob's lock");

        Assert.Equal(202, await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest()));

        await Eventually.TrueAsync(() => room.State.CommentsOn("Codertocat/Hello-World", 2).Count == 1, "the waiting notice");
        Assert.Empty(room.Deployments());
        await Eventually.TrueAsync(() => room.Deployments().Count == 1 && room.Pipeline.StatesOf(room.Deployments()[0]).Contains("success"),
            "the merge deployed once the lock ended");
    }

    [Theory]
    [InlineData(".lock --for", "--for needs a duration")]
    [InlineData(".lock --for soon", "--for needs a duration")]
    [InlineData(".lock --for 31d", "--for needs a duration up to 30 days")]
    public void A_lock_duration_that_cannot_be_read_is_refused_with_how_to_write_it(string text, string reason)
    {
        Assert.Null(DeployFunctions.Commands.ChatCommand.Parse(text, ".", out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }
}
