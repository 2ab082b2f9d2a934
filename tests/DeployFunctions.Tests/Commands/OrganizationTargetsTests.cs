using System.Text.Json.Nodes;
using DeployFunctions.Tests.Support;
using GitHubStandIn;

namespace DeployFunctions.Tests.Commands;

/// <summary>
/// One instance for an organization: the operator's targets (<c>Targets__&lt;name&gt;__*</c>, each granted to some
/// repositories) and each repository's own environments on them, end to end through the stand-in.
/// </summary>
public sealed class OrganizationTargetsTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string File = ".github/deployfunctions.yml";

    /// <summary>
    /// Two targets: <c>shared-prod</c> (an http hook, granted to every repository of octo) and <c>web-preview</c> (simulated,
    /// granted to octo/web only); <c>production</c> stays the app's own environment, as before targets.
    /// </summary>
    private static Task<CommandRoom> OpenAsync(Azurite azurite, Uri hook, string grantedTo = "octo/*") => CommandRoom.OpenAsync(azurite, s =>
    {
        s["Targets:shared-prod:Provider"] = "http";
        s["Targets:shared-prod:Url"] = hook.ToString();
        s["Targets:shared-prod:Secret"] = "a-shared-production-hook-secret";
        s["Targets:shared-prod:Repositories"] = grantedTo;
        s["Targets:web-preview:Provider"] = "simulated";
        s["Targets:web-preview:DelaySeconds"] = "0.2";
        s["Targets:web-preview:Repositories"] = "octo/web";
    });

    private static StandInPullRequest Open(CommandRoom room, string name)
    {
        var repository = room.State.Repository("octo", name);
        var pull = room.State.OpenPullRequest(repository, 3, CommandRoom.HeadSha, author: "alice");
        room.State.Permissions[(repository.FullName, "alice")] = "write";
        room.State.Permissions[(repository.FullName, "carol")] = "write";
        room.State.Review(pull, "carol", "APPROVED");
        room.State.Branches[(repository.FullName, "main")] = CommandRoom.StableSha;
        return pull;
    }

    [Fact]
    public async Task Each_repository_deploys_where_it_may_and_only_there()
    {
        await using var hook = await RecordingServer.StartAsync();
        await using var room = await OpenAsync(azurite, hook.Url);
        var web = Open(room, "web");
        var api = Open(room, "api");
        room.State.Files[("octo/web", File)] = "environments:\n  web-prod:\n    target: shared-prod\n  preview:\n    target: web-preview\n";
        room.State.Files[("octo/api", File)] = "environments:\n  preview:\n    target: web-preview\n";

        // octo/app has no file: the app's environments only.
        var unknown = await room.AnsweredAsync(room.Say("alice", ".deploy to web-prod"), "confused");
        await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");
        // octo/web deploys to both of its own environments, each with its target's provider.
        await room.AnsweredAsync(room.Say("alice", ".deploy to preview", web), "rocket", web);
        await room.AnsweredAsync(room.Say("alice", ".deploy to web-prod", web), "rocket", web);
        var help = await room.AnsweredAsync(room.Say("alice", ".help", web), "rocket", web);
        // octo/api names a target the app does not grant it: its file is refused, nothing deploys.
        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy to preview", api), "confused", api);

        Assert.Contains("`web-prod` is not an environment this app deploys to", unknown.Body, StringComparison.Ordinal);
        Assert.Contains("the app's settings do not grant 'web-preview' to octo/api (Targets__web-preview__Repositories)", refused.Body, StringComparison.Ordinal);
        Assert.Contains("`production`, `preview`, `web-prod`", help.Body, StringComparison.Ordinal);
        var deployed = room.Deployments().Select(d => $"{d.Repository.FullName}:{d.Environment}").Order().ToList();
        Assert.Equal(["octo/app:production", "octo/web:preview", "octo/web:web-prod"], deployed);
        var body = JsonNode.Parse(Assert.Single(hook.Received).Body)!; // only web-prod went to the shared hook
        Assert.Equal("web-prod", (string?)body["environment"]);
        Assert.Equal("octo/web", (string?)body["repository"]);
    }

    [Fact]
    public async Task A_file_cannot_take_a_target_that_does_not_exist_nor_an_environment_name_the_app_uses()
    {
        await using var hook = await RecordingServer.StartAsync();
        await using var room = await OpenAsync(azurite, hook.Url);
        room.State.Files[(CommandRoom.Repository, File)] = "environments:\n  production:\n    target: shared-prod\n  qa:\n    target: nowhere\n";

        var refused = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        Assert.Contains("environments.production: the app's settings define production", refused.Body, StringComparison.Ordinal);
        Assert.Contains("environments.qa.target: 'nowhere' is not a target of the app's settings", refused.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
        Assert.Empty(hook.Received);
    }

    [Fact]
    public async Task Production_waits_for_the_same_commit_to_succeed_in_the_environment_it_requires_and_a_rollback_is_exempt()
    {
        await using var hook = await RecordingServer.StartAsync();
        await using var room = await OpenAsync(azurite, hook.Url);
        var web = Open(room, "web");
        room.State.Files[("octo/web", File)] =
            "environments:\n  web-prod:\n    target: shared-prod\n    requires: [preview]\n  preview:\n    target: web-preview\n";

        var early = await room.AnsweredAsync(room.Say("alice", ".deploy to web-prod", web), "confused", web);
        await room.AnsweredAsync(room.Say("alice", ".noop to preview", web), "rocket", web);
        var afterNoop = await room.AnsweredAsync(room.Say("alice", ".deploy to web-prod", web), "confused", web); // a dry run ran nothing
        await room.AnsweredAsync(room.Say("alice", ".deploy main to preview", web), "rocket", web);
        var afterOther = await room.AnsweredAsync(room.Say("alice", ".deploy to web-prod", web), "confused", web); // another commit succeeded there
        var rollback = room.Say("alice", ".deploy main to web-prod", web);
        await room.AnsweredAsync(rollback, "rocket", web);
        await room.AnsweredAsync(room.Say("alice", ".deploy to preview", web), "rocket", web);
        await room.AnsweredAsync(room.Say("alice", ".deploy to web-prod", web), "rocket", web);

        Assert.All(new[] { early, afterNoop, afterOther }, refused =>
            Assert.Contains("1111111 has not been deployed to `preview` with success, and web-prod requires it first", refused.Body, StringComparison.Ordinal));
        Assert.Contains("Comment `.deploy to preview`, then this again.", early.Body, StringComparison.Ordinal);
        var production = room.Deployments().Where(d => d.Environment == "web-prod").Select(d => d.Sha).ToList();
        Assert.Equal([CommandRoom.StableSha, CommandRoom.HeadSha], production);
    }

    [Fact]
    public async Task Two_repositories_environments_of_the_same_name_on_different_targets_neither_block_nor_supersede_each_other()
    {
        await using var hook = await RecordingServer.StartAsync();
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Targets:shared-prod:Provider"] = "http";
            s["Targets:shared-prod:Url"] = hook.Url.ToString();
            s["Targets:shared-prod:Secret"] = "a-shared-production-hook-secret";
            s["Targets:shared-prod:Repositories"] = "octo/web";
            s["Targets:api-prod:Provider"] = "simulated";
            s["Targets:api-prod:DelaySeconds"] = "0.2";
            s["Targets:api-prod:Repositories"] = "octo/api";
        });
        var web = Open(room, "web");
        var api = Open(room, "api");
        room.State.Permissions[("octo/web", "bob")] = "write";
        room.State.Files[("octo/web", File)] = "environments:\n  prod:\n    target: shared-prod\n";
        room.State.Files[("octo/api", File)] = "environments:\n  prod:\n    target: api-prod\n";

        await room.AnsweredAsync(room.Say("bob", ".lock prod --reason web release", web), "rocket", web);
        await room.AnsweredAsync(room.Say("alice", ".deploy to prod", api), "rocket", api);
        var webRefused = await room.AnsweredAsync(room.Say("alice", ".deploy to prod", web), "confused", web);

        Assert.Contains("prod is locked by @bob", webRefused.Body, StringComparison.Ordinal);
        var deployed = Assert.Single(room.Deployments());
        Assert.Equal("octo/api", deployed.Repository.FullName);
        Assert.Contains("success", room.Pipeline.StatesOf(deployed));
        Assert.Empty(hook.Received); // octo/api's prod ran on its own target, not on octo/web's hook
    }

    [Fact]
    public async Task A_merge_into_a_branch_the_repositorys_own_environment_lists_deploys_there_on_its_target_and_only_there()
    {
        await using var hook = await RecordingServer.StartAsync();
        await using var room = await OpenAsync(azurite, hook.Url, grantedTo: "Codertocat/*");
        room.State.OpenPullRequest(room.State.Repository("Codertocat", "Hello-World", "master"), 2, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c").State = "closed";

        // No file: the merge deploys to the app's environment, exactly as before targets existed.
        Assert.Equal(202, await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")));
        await Eventually.TrueAsync(() => room.Deployments().Count == 1 && room.Pipeline.StatesOf(room.Deployments()[0]).Contains("success"), "the merge to production");

        room.State.Files[("Codertocat/Hello-World", File)] = "environments:\n  web-prod:\n    target: shared-prod\n    branches: [master]\n";
        Assert.Equal(202, await room.Pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")));
        await Eventually.TrueAsync(() => room.Deployments().Count == 2 && room.Pipeline.StatesOf(room.Deployments()[1]).Contains("success"), "the merge to web-prod");

        Assert.Equal(["production", "web-prod"], room.Deployments().Select(d => d.Environment).ToList());
        var body = JsonNode.Parse(Assert.Single(hook.Received).Body)!;
        Assert.Equal("web-prod", (string?)body["environment"]);
        Assert.Equal("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", (string?)body["sha"]);
    }

    [Fact]
    public async Task An_environment_of_the_file_may_ask_for_more_approvals_and_name_its_url()
    {
        await using var hook = await RecordingServer.StartAsync();
        await using var room = await OpenAsync(azurite, hook.Url);
        var web = Open(room, "web");
        room.State.Files[("octo/web", File)] =
            "environments:\n  preview:\n    target: web-preview\n    required_approvals: 2\n    url: https://{environment}.{repository}.example.com\n";

        var one = await room.AnsweredAsync(room.Say("alice", ".deploy to preview", web), "confused", web);
        room.State.Permissions[("octo/web", "bob")] = "write";
        room.State.Review(web, "bob", "APPROVED");
        var two = await room.AnsweredAsync(room.Say("alice", ".deploy to preview", web), "rocket", web);

        Assert.Contains("preview needs 2 approvals of the head commit by people with write access (required_approvals", one.Body, StringComparison.Ordinal);
        Assert.Contains("it has 1 (@carol)", one.Body, StringComparison.Ordinal);
        Assert.Contains("- environment: https://preview.web.example.com", two.Body, StringComparison.Ordinal);
        var deployment = Assert.Single(room.Deployments());
        Assert.Contains(deployment.Statuses, s => s.State == "success" && s.EnvironmentUrl == "https://preview.web.example.com/");
    }

    [Fact]
    public async Task A_github_actions_target_dispatches_the_repositorys_own_workflow_when_its_environment_names_one()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Targets:actions-qa:Provider"] = "github-actions";
            s["Targets:actions-qa:Workflow"] = "deploy.yml";
            s["Targets:actions-qa:Repositories"] = "octo/*";
        });
        var web = Open(room, "web");
        var api = Open(room, "api");
        room.State.Files[("octo/web", File)] = "environments:\n  qa:\n    target: actions-qa\n    workflow: deploy-web.yml\n";
        room.State.Files[("octo/api", File)] = "environments:\n  qa:\n    target: actions-qa\n";

        room.Say("alice", ".deploy to qa", web);
        room.Say("alice", ".deploy to qa", api);
        await Eventually.TrueAsync(() => room.State.Requests.Count(r => r.Path.EndsWith("/dispatches", StringComparison.Ordinal)) == 2, "both dispatches");

        var dispatched = room.State.Requests.Where(r => r.Path.EndsWith("/dispatches", StringComparison.Ordinal)).Select(r => r.Path).Order().ToList();
        Assert.Equal(["/repos/octo/api/actions/workflows/deploy.yml/dispatches", "/repos/octo/web/actions/workflows/deploy-web.yml/dispatches"], dispatched);
    }

    [Fact]
    public async Task An_environment_with_named_reviewers_deploys_only_once_one_of_them_approved()
    {
        await using var room = await CommandRoom.OpenAsync(azurite);
        room.State.Files[(CommandRoom.Repository, File)] = "environments:\n  production:\n    reviewers: [ada]\n";

        var carolOnly = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");
        room.State.Review(room.Pull, "ada", "APPROVED");
        var adaToo = room.Say("ada", ".deploy"); // ada's own approval does not count for ada's command
        var own = await room.AnsweredAsync(adaToo, "confused");
        await room.AnsweredAsync(room.Say("alice", ".deploy"), "rocket");

        Assert.Contains("it needs an approval of the commit by one of `ada` (reviewers in .github/deployfunctions.yml); approved by @carol", carolOnly.Body, StringComparison.Ordinal);
        Assert.Contains("reviewers in", own.Body, StringComparison.Ordinal);
        Assert.Single(room.Deployments());
    }

    [Fact]
    public async Task A_named_reviewer_who_wrote_the_head_does_not_count_and_a_repository_may_ask_for_confirmation()
    {
        await using var room = await CommandRoom.OpenAsync(azurite, s => s["Commands:DeploymentConfirmationPollSeconds"] = "0.3");
        room.Pull.HeadCommitAuthor = "ada";
        room.State.Review(room.Pull, "ada", "APPROVED");
        room.State.Files[(CommandRoom.Repository, File)] = "environments:\n  production:\n    reviewers: [ada]\n";

        var authored = await room.AnsweredAsync(room.Say("alice", ".deploy"), "confused");

        room.State.Files[(CommandRoom.Repository, File)] = "commands:\n  deployment_confirmation: [production]\n";
        var asked = room.Say("alice", ".deploy");
        await Eventually.TrueAsync(() => room.State.CommentsOn(CommandRoom.Repository, 7).Any(c => c.Body.Contains($"deployfunctions:confirm:{asked.Id}:", StringComparison.Ordinal)),
            "the question the repository asked for");

        Assert.Contains("reviewers in", authored.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
    }

    [Fact]
    public async Task An_operators_freeze_or_confirmation_naming_a_target_holds_every_repositorys_environment_on_it()
    {
        await using var hook = await RecordingServer.StartAsync();
        await using var room = await CommandRoom.OpenAsync(azurite, s =>
        {
            s["Targets:shared-prod:Provider"] = "http";
            s["Targets:shared-prod:Url"] = hook.Url.ToString();
            s["Targets:shared-prod:Secret"] = "a-shared-production-hook-secret";
            s["Targets:shared-prod:Repositories"] = "octo/*";
            s["Targets:web-preview:Provider"] = "simulated";
            s["Targets:web-preview:Repositories"] = "octo/*";
            s["Freezes:0:Environment"] = "shared-prod";
            s["Freezes:0:Reason"] = "release freeze";
            s["Freezes:0:From"] = DateTimeOffset.UtcNow.AddHours(-1).ToString("O");
            s["Freezes:0:Until"] = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
            s["Commands:DeploymentConfirmation"] = "web-preview";
            s["Commands:DeploymentConfirmationPollSeconds"] = "0.3";
        });
        var web = Open(room, "web");
        room.State.Files[("octo/web", File)] = "environments:\n  web-prod:\n    target: shared-prod\n  preview:\n    target: web-preview\n";

        var frozen = await room.AnsweredAsync(room.Say("alice", ".deploy to web-prod", web), "confused", web);
        var asked = room.Say("alice", ".deploy to preview", web);
        await Eventually.TrueAsync(() => room.State.CommentsOn("octo/web", 3).Any(c => c.Body.Contains($"deployfunctions:confirm:{asked.Id}:", StringComparison.Ordinal)),
            "the question for an environment on a target that asks for confirmation");

        Assert.Contains("release freeze", frozen.Body, StringComparison.Ordinal);
        Assert.Empty(room.Deployments());
        Assert.Empty(hook.Received);
    }
}
