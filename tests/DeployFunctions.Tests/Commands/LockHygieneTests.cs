using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Commands;

/// <summary>
/// The lock a <c>.deploy</c> takes for its deployment (branch-deploy's non-sticky lock, <c>sticky_locks</c>), locks released
/// when their pull request closes (<c>unlock_on_merge</c>), and <c>.wcid</c> showing what is live and what waits.
/// </summary>
public sealed class LockHygieneTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Hello = "Codertocat/Hello-World";

    [Fact]
    public async Task A_deploy_holds_its_environment_until_it_ends_then_releases_it_and_says_so()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Environments:production:DelaySeconds"] = "3");
        var other = room.Open(8, "8888888888888888888888888888888888888888");

        var deploy = room.Say("alice", ".deploy");
        await Eventually.TrueAsync(() => room.Deployments().Count == 1, "alice's deployment");
        var refused = await room.AnsweredAsync(room.Say("bob", ".deploy", other), "confused", other);
        var during = await room.AnsweredAsync(room.Say("bob", ".wcid", other), "rocket", other);
        var done = await room.AnsweredAsync(deploy, "rocket");
        await room.AnsweredAsync(room.Say("bob", ".deploy", other), "rocket", other);

        Assert.Contains("production is locked by @alice while deploying #7", refused.Body, StringComparison.Ordinal);
        Assert.Contains("The lock is released when that deployment ends", refused.Body, StringComparison.Ordinal);
        Assert.Contains("🔒 @alice (deploying)", during.Body, StringComparison.Ordinal);
        Assert.Contains("- 🔓 the deploy lock on production is released", done.Body, StringComparison.Ordinal);
        Assert.Equal(2, room.Deployments().Count);
    }

    [Fact]
    public async Task With_sticky_locks_the_deploy_lock_stays_until_unlocked()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:StickyLocks"] = "true");

        var done = await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");
        var details = await room.AnsweredAsync(room.Say("bob", ".lock --details"), "rocket");

        Assert.DoesNotContain("deploy lock", done.Body, StringComparison.Ordinal);
        Assert.Contains("production is locked by @alice since", details.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closing_a_pull_request_releases_its_locks_with_one_comment_when_unlock_on_merge_is_on()
    {
        foreach (var on in new[] { true, false })
        {
            await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:UnlockOnMerge"] = on ? "true" : "false");
            room.State.Permissions[(Hello, "bob")] = "write";
            room.State.Permissions[(Hello, "alice")] = "write";
            var closing = room.State.OpenPullRequest(room.State.Repository("Codertocat", "Hello-World"), 2, CommandRoom.HeadSha, author: "bob");
            await room.AnsweredAsync(room.Say("bob", ".lock --reason release", closing), "rocket", closing);

            Assert.Equal(on ? 202 : 200, await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.Get("pull_request", "closed")));
            await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.Get("pull_request", "closed")); // a redelivery says nothing twice

            if (on)
            {
                await Eventually.TrueAsync(() => room.State.CommentsOn(Hello, 2).Any(c => c.Body.Contains("its locks are released", StringComparison.Ordinal)),
                    "the unlock notice");
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            var details = await room.AnsweredAsync(room.Say("alice", ".lock --details", closing), "rocket", closing);
            Assert.Contains(on ? "🔓 production is not locked" : "production is locked by @bob", details.Body, StringComparison.Ordinal);
            Assert.Equal(on ? 1 : 0, room.State.CommentsOn(Hello, 2).Count(c => c.Body.Contains("its locks are released", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task Wcid_shows_the_live_deployment_and_the_merge_waiting_behind_a_lock()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:LockPollSeconds"] = "0.3");
        await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");
        room.State.Permissions[(Hello, "bob")] = "write";
        room.State.OpenPullRequest(room.State.Repository("Codertocat", "Hello-World"), 2, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c").State = "closed";
        await room.AnsweredAsync(room.Say("bob", ".lock --reason db migration"), "rocket");

        var hello = room.State.Repository("Codertocat", "Hello-World");
        var lockOnHello = room.State.OpenPullRequest(hello, 9, CommandRoom.HeadSha, author: "bob");
        await room.AnsweredAsync(room.Say("bob", ".lock", lockOnHello), "rocket", lockOnHello);
        Assert.Equal(202, await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest()));
        await Eventually.TrueAsync(() => room.State.CommentsOn(Hello, 2).Count == 1, "the waiting notice");

        var wcid = await room.AnsweredAsync(room.Say("alice", ".wcid"), "rocket");
        var helloWcid = await room.AnsweredAsync(room.Say("bob", ".wcid", lockOnHello), "rocket", lockOnHello);

        Assert.Contains("| `production` | 🔒 @bob since", wcid.Body, StringComparison.Ordinal);
        Assert.Contains(": db migration | 1111111 (#7) by @alice at ", wcid.Body, StringComparison.Ordinal);
        Assert.Contains("merge of #2 (0d1a26e): production is locked by @bob", helloWcid.Body, StringComparison.Ordinal);
        Assert.Contains("| nothing yet |", helloWcid.Body, StringComparison.Ordinal);
    }
}
