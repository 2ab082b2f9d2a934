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
    public async Task Closing_a_pull_request_releases_the_closers_locks_taken_there_and_nobody_elses()
    {
        foreach (var on in new[] { true, false })
        {
            // GitHub's example 'closed' delivery: Codertocat closes Codertocat/Hello-World#2 without merging.
            await using var room = await CommandRoom.OpenAsync(azurite, s =>
            {
                s["Commands:UnlockOnMerge"] = on ? "true" : "false";
                s["Environments:staging:Provider"] = "simulated";
                s["Environments:qa:Provider"] = "simulated";
            });
            foreach (var person in new[] { "Codertocat", "ada", "alice" })
            {
                room.State.Permissions[(Hello, person)] = person == "ada" ? "admin" : "write";
            }

            var closing = room.State.OpenPullRequest(room.State.Repository("Codertocat", "Hello-World"), 2, CommandRoom.HeadSha, author: "Codertocat");
            await room.AnsweredAsync(room.Say("Codertocat", ".lock production --reason release", closing), "rocket", closing);
            await room.AnsweredAsync(room.Say("ada", ".lock staging --reason incident", closing), "rocket", closing); // an admin's lock on the same pull request
            var elsewhere = room.State.OpenPullRequest(room.State.Repository("Codertocat", "Hello-World"), 9, CommandRoom.HeadSha, author: "Codertocat");
            await room.AnsweredAsync(room.Say("Codertocat", ".lock qa --reason tests", elsewhere), "rocket", elsewhere); // the closer's lock on another pull request

            Assert.Equal(on ? 202 : 200, await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.Get("pull_request", "closed")));
            await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.Get("pull_request", "closed")); // a redelivery says nothing twice

            if (on)
            {
                await Eventually.TrueAsync(() => room.State.CommentsOn(Hello, 2).Any(c => c.Body.Contains("locks they took here are released", StringComparison.Ordinal)),
                    "the unlock notice");
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            var production = await room.AnsweredAsync(room.Say("alice", ".lock --details production", closing), "rocket", closing);
            var staging = await room.AnsweredAsync(room.Say("alice", ".lock --details staging", closing), "rocket", closing);
            Assert.Contains(on ? "🔓 production is not locked" : "production is locked by @Codertocat", production.Body, StringComparison.Ordinal);
            Assert.Contains("staging is locked by @ada", staging.Body, StringComparison.Ordinal);
            var qa = await room.AnsweredAsync(room.Say("alice", ".lock --details qa", closing), "rocket", closing);
            Assert.Contains("qa is locked by @Codertocat", qa.Body, StringComparison.Ordinal);
            Assert.True((on ? 1 : 0) == room.State.CommentsOn(Hello, 2).Count(c => c.Body.Contains("locks they took here are released", StringComparison.Ordinal)),
                string.Join("\n---\n", room.State.CommentsOn(Hello, 2).Select(c => $"{c.User}: {c.Body}")));
        }
    }

    [Fact]
    public async Task Locking_while_ones_own_deployment_runs_keeps_the_lock_after_it_ends()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Environments:production:DelaySeconds"] = "3");

        var deploy = room.Say("alice", ".deploy");
        await Eventually.TrueAsync(() => room.Deployments().Count == 1, "alice's deployment");
        await room.AnsweredAsync(room.Say("alice", ".lock --reason hold after the release"), "rocket");
        await room.AnsweredAsync(deploy, "rocket");
        var details = await room.AnsweredAsync(room.Say("bob", ".lock --details"), "rocket");

        Assert.Contains("production is locked by @alice since", details.Body, StringComparison.Ordinal);
        Assert.Contains("hold after the release", details.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deploy_that_creates_nothing_gives_its_lock_back()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.State.AddFault(new GitHubStandIn.Fault("POST", "/repos/octo/app/deployments", 422, """{"message":"Validation Failed"}""")); // permanent: no retry

        room.Say("alice", ".deploy");
        await Eventually.TrueAsync(() => room.Pipeline.PoisonCountAsync("commands").Result == 1, "the command in poison");
        var other = room.Open(8, "8888888888888888888888888888888888888888");
        await room.AnsweredAsync(room.Say("bob", ".deploy", other), "rocket", other);

        Assert.Equal("8888888888888888888888888888888888888888", Assert.Single(room.Deployments()).Sha);
    }

    [Fact]
    public async Task Wcid_shows_the_live_deployment_and_the_merge_waiting_behind_a_lock()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:LockPollSeconds"] = "0.3");
        await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");
        room.State.Permissions[(Hello, "bob")] = "write";
        room.State.OpenPullRequest(room.State.Repository("Codertocat", "Hello-World"), 2, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c").State = "closed";
        await room.AnsweredAsync(room.Say("bob", ".lock --reason db `migration` [notes](https://example.com)"), "rocket");

        var hello = room.State.Repository("Codertocat", "Hello-World");
        var lockOnHello = room.State.OpenPullRequest(hello, 9, CommandRoom.HeadSha, author: "bob");
        await room.AnsweredAsync(room.Say("bob", ".lock", lockOnHello), "rocket", lockOnHello);
        Assert.Equal(202, await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest()));
        await Eventually.TrueAsync(() => room.State.CommentsOn(Hello, 2).Count == 1, "the waiting notice");

        var wcid = await room.AnsweredAsync(room.Say("alice", ".wcid"), "rocket");
        var helloWcid = await room.AnsweredAsync(room.Say("bob", ".wcid", lockOnHello), "rocket", lockOnHello);

        Assert.Contains("| `production` | 🔒 @bob since", wcid.Body, StringComparison.Ordinal);
        Assert.Contains(": `db 'migration' [notes](https://example.com)` | 1111111 (#7) by @alice at ", wcid.Body, StringComparison.Ordinal); // a code span: no link
        Assert.Contains("merge of #2 (0d1a26e): production is locked by @bob", helloWcid.Body, StringComparison.Ordinal);
        Assert.Contains("| nothing yet |", helloWcid.Body, StringComparison.Ordinal);
    }
}
