using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using DeployFunctions.Tests.Support;
using GitHubStandIn.OpenApi;
using GitHubStandIn;

namespace DeployFunctions.Tests.FirstRun;

/// <summary>
/// Every answer and webhook of the GitHub stand-in, checked against GitHub's published OpenAPI descriptions (npm
/// <c>@octokit/openapi</c> for REST, <c>@octokit/openapi-webhooks</c> for payloads), not against memory.
/// </summary>
public sealed class StandInOpenApiTests : IAsyncLifetime
{
    private const string Deployments = "/repos/{owner}/{repo}/deployments";
    private const string Deployment = "/repos/{owner}/{repo}/deployments/{deployment_id}";
    private const string Statuses = "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses";
    private readonly HttpClient http = new();
    private StandInWithApp standIn = null!;

    private RecordingServer App => standIn.App;

    private StandInServer GitHub => standIn.GitHub;

    public async Task InitializeAsync() => standIn = await StandInWithApp.StartAsync();

    public async Task DisposeAsync()
    {
        await standIn.DisposeAsync();
        http.Dispose();
    }

    private async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? body = null, string authorization = "token t")
    {
        using var request = new HttpRequestMessage(method, new Uri(GitHub.BaseAddress, path.TrimStart('/')));
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static void Fits(OpenApiDescription description, JsonNode schema, JsonNode? value, string what)
    {
        var errors = description.Check(value, schema);
        Assert.True(errors.Count == 0, $"{what} does not fit GitHub's description:\n{string.Join("\n", errors.Take(80))}");
    }

    private static void FitsAnswer(string method, string path, int status, JsonNode? body)
    {
        Assert.True(OpenApiDescription.Rest.Answers(method, path, status), $"GitHub never answers {method} {path} with {status}");
        Fits(OpenApiDescription.Rest, OpenApiDescription.Rest.Response(method, path, status), body, $"{method.ToUpperInvariant()} {path} {status}");
    }

    private async Task<long> CreateDeploymentAsync()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/repos/octo/app/deployments",
            """{"ref":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","environment":"production","auto_merge":false,"payload":{"created_by":"deployfunctions"},"description":"d"}""");
        FitsAnswer("post", Deployments, status, body);
        return (long)body!["id"]!;
    }

    [Fact]
    public async Task Deployment_answers_fit_GitHubs_description()
    {
        var id = await CreateDeploymentAsync();

        var (listed, list) = await SendAsync(HttpMethod.Get, "/repos/octo/app/deployments?sha=0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c&environment=production");
        FitsAnswer("get", Deployments, listed, list);
        Assert.NotEmpty(list!.AsArray());
        var (found, one) = await SendAsync(HttpMethod.Get, $"/repos/octo/app/deployments/{id}");
        FitsAnswer("get", Deployment, found, one);
        var (missing, notFound) = await SendAsync(HttpMethod.Get, "/repos/octo/app/deployments/1");
        FitsAnswer("get", Deployment, missing, notFound);
    }

    [Fact]
    public async Task Status_answers_fit_GitHubs_description()
    {
        var id = await CreateDeploymentAsync();

        var (created, status) = await SendAsync(HttpMethod.Post, $"/repos/octo/app/deployments/{id}/statuses",
            """{"state":"success","log_url":"https://ci.example.com/1","environment_url":"https://app.example.com/","description":"Deployed"}""");
        FitsAnswer("post", Statuses, created, status);
        var (listed, list) = await SendAsync(HttpMethod.Get, $"/repos/octo/app/deployments/{id}/statuses");
        FitsAnswer("get", Statuses, listed, list);
        var (invalid, refusal) = await SendAsync(HttpMethod.Post, $"/repos/octo/app/deployments/{id}/statuses", """{"state":"done"}""");
        FitsAnswer("post", Statuses, invalid, refusal);
    }

    [Fact]
    public async Task App_answers_fit_GitHubs_description()
    {
        const string jwt = "Bearer aaa.bbb.ccc";
        GitHub.State.InstallApp("octo/app", 4242);

        var (issued, token) = await SendAsync(HttpMethod.Post, "/app/installations/4242/access_tokens", "{}", jwt);
        FitsAnswer("post", "/app/installations/{installation_id}/access_tokens", issued, token);
        var (found, installation) = await SendAsync(HttpMethod.Get, "/repos/octo/app/installation", authorization: jwt);
        FitsAnswer("get", "/repos/{owner}/{repo}/installation", found, installation);
        var (missing, notFound) = await SendAsync(HttpMethod.Get, "/repos/octo/other/installation", authorization: jwt);
        FitsAnswer("get", "/repos/{owner}/{repo}/installation", missing, notFound);
    }

    [Fact]
    public async Task A_workflow_dispatch_and_its_run_are_answered_as_GitHub_does()
    {
        const string Dispatches = "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches";
        var (status, body) = await SendAsync(HttpMethod.Post, "/repos/octo/app/actions/workflows/deploy.yml/dispatches",
            """{"ref":"main","inputs":{"deployment_id":"1"}}""");
        Assert.True(OpenApiDescription.Rest.Answers("post", Dispatches, status));
        Assert.Equal(204, status);
        Assert.Null(body);

        var (detailed, details) = await SendAsync(HttpMethod.Post, "/repos/octo/app/actions/workflows/deploy.yml/dispatches",
            """{"ref":"main","inputs":{"deployment_id":"2"},"return_run_details":true}""");
        FitsAnswer("post", Dispatches, detailed, details);
        var runId = (long)details!["workflow_run_id"]!;
        var (found, run) = await SendAsync(HttpMethod.Get, $"/repos/octo/app/actions/runs/{runId}");
        FitsAnswer("get", "/repos/{owner}/{repo}/actions/runs/{run_id}", found, run);
        Assert.Equal("deployfunctions deployment 2", (string?)run!["display_title"]);
        var (listed, runs) = await SendAsync(HttpMethod.Get, "/repos/octo/app/actions/workflows/deploy.yml/runs?event=workflow_dispatch");
        FitsAnswer("get", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs", listed, runs);
        Assert.Equal(2, (int)runs!["total_count"]!);

        GitHub.CompleteRun(runId, "failure");
        await Eventually.TrueAsync(() => App.Received.Any(r => r.Headers["X-GitHub-Event"] == "workflow_run"), "the workflow_run webhook");
        var completed = JsonNode.Parse(App.Received.Single(r => r.Headers["X-GitHub-Event"] == "workflow_run").Body);
        Fits(OpenApiDescription.Webhooks, OpenApiDescription.Webhooks.Webhook("workflow-run-completed"), completed, "the workflow_run webhook");
        Assert.Equal(("completed", "failure"), ((string?)completed!["workflow_run"]!["status"], (string?)completed["workflow_run"]!["conclusion"]));
    }

    [Fact]
    public async Task Identity_and_check_run_answers_fit_GitHubs_description()
    {
        GitHub.State.TokenLogins["mallory-token"] = "mallory";
        var (asApp, app) = await SendAsync(HttpMethod.Get, "/user");
        FitsAnswer("get", "/user", asApp, app);
        var (asPerson, person) = await SendAsync(HttpMethod.Get, "/user", authorization: "token mallory-token");
        FitsAnswer("get", "/user", asPerson, person);
        Assert.Equal((GitHubStandIn.StandInState.AppLogin, "mallory"), ((string?)app!["login"], (string?)person!["login"]));
        var (found, integration) = await SendAsync(HttpMethod.Get, "/app", authorization: "Bearer aaa.bbb.ccc");
        FitsAnswer("get", "/app", found, integration);

        GitHub.State.AddCheckRun(new string('a', 40), "build", "completed", "failure");
        GitHub.State.AddCheckRun(new string('a', 40), "e2e", "in_progress", null);
        var (listed, checks) = await SendAsync(HttpMethod.Get, $"/repos/octo/app/commits/{new string('a', 40)}/check-runs");
        FitsAnswer("get", "/repos/{owner}/{repo}/commits/{ref}/check-runs", listed, checks);
        Assert.Equal(2, (int)checks!["total_count"]!);

        // A deployment and a status made with a person's token are theirs, as on GitHub.
        var (_, deployment) = await SendAsync(HttpMethod.Post, "/repos/octo/app/deployments", """{"ref":"main","required_contexts":[]}""", "token mallory-token");
        var (_, posted) = await SendAsync(HttpMethod.Post, $"/repos/octo/app/deployments/{deployment!["id"]}/statuses", """{"state":"success"}""", "token mallory-token");
        Assert.Equal(("mallory", "mallory"), ((string?)deployment["creator"]!["login"], (string?)posted!["creator"]!["login"]));
    }

    [Fact]
    public async Task A_file_can_differ_by_ref()
    {
        GitHub.State.Files[("octo/app", ".github/deployfunctions.yml")] = "commands:\n  allow_forks: false\n";
        GitHub.State.FilesAt[("octo/app", "evil", ".github/deployfunctions.yml")] = null;

        var (atMain, _) = await SendAsync(HttpMethod.Get, "/repos/octo/app/contents/.github/deployfunctions.yml?ref=main");
        var (atEvil, notFound) = await SendAsync(HttpMethod.Get, "/repos/octo/app/contents/.github/deployfunctions.yml?ref=evil");

        Assert.Equal((200, 404), (atMain, atEvil));
        FitsAnswer("get", "/repos/{owner}/{repo}/contents/{path}", atEvil, notFound);
    }

    [Fact]
    public async Task GraphQL_queries_are_checked_against_GitHubs_schema_and_answered_from_the_state()
    {
        var repository = GitHub.State.Repository("octo", "app");
        var pull = GitHub.State.OpenPullRequest(repository, 9, new string('a', 40));
        pull.ReviewDecision = "APPROVED";
        pull.RequiredChecks.Add("build");
        GitHub.State.Permissions[("octo/app", "carol")] = "write";
        GitHub.State.Review(pull, "carol", "APPROVED");
        GitHub.State.Review(pull, "stranger", "APPROVED");
        GitHub.State.AddCheckRun(new string('a', 40), "build", "completed", "success");
        GitHub.State.CombinedStatuses[new string('a', 40)] = ("pending", "ci/e2e");
        const string Query = """
            query($owner: String!, $name: String!, $number: Int!) {
              repository(owner: $owner, name: $name) {
                pullRequest(number: $number) {
                  state isDraft headRefOid reviewDecision
                  reviews: latestOpinionatedReviews(first: 100, writersOnly: true) { nodes { state author { login } commit { oid } } }
                  commits(last: 1) { nodes { commit { statusCheckRollup { state contexts(first: 100) { nodes {
                    __typename
                    ... on CheckRun { name conclusion isRequired(pullRequestNumber: $number) }
                    ... on StatusContext { context state isRequired(pullRequestNumber: $number) }
                  } } } } } }
                }
              }
            }
            """;
        var body = new JsonObject { ["query"] = Query, ["variables"] = new JsonObject { ["owner"] = "octo", ["name"] = "app", ["number"] = 9 } };

        var (status, answer) = await SendAsync(HttpMethod.Post, "/graphql", body.ToJsonString());

        Assert.True(status == 200 && answer!["errors"] is null, answer?.ToJsonString());
        var found = answer!["data"]!["repository"]!["pullRequest"]!;
        Assert.Equal(("OPEN", "APPROVED"), ((string?)found["state"], (string?)found["reviewDecision"]));
        Assert.Equal("carol", (string?)Assert.Single(found["reviews"]!["nodes"]!.AsArray())!["author"]!["login"]);
        var rollup = found["commits"]!["nodes"]![0]!["commit"]!["statusCheckRollup"]!;
        Assert.Equal("PENDING", (string?)rollup["state"]);
        var contexts = rollup["contexts"]!["nodes"]!.AsArray();
        Assert.Equal(("CheckRun", true), ((string?)contexts[0]!["__typename"], (bool)contexts[0]!["isRequired"]!));
        Assert.Equal(("StatusContext", "PENDING"), ((string?)contexts[1]!["__typename"], (string?)contexts[1]!["state"]));

        var (refused, errors) = await SendAsync(HttpMethod.Post, "/graphql",
            new JsonObject { ["query"] = "{ repository(owner: \"octo\") { pullRequest(number: 9) { reviewDecisions } } }" }.ToJsonString());
        Assert.Equal(200, refused);
        var messages = errors!["errors"]!.AsArray().Select(e => (string?)e!["message"]).ToList();
        Assert.Contains("Field 'repository' is missing required arguments: name", messages);
        Assert.Contains("Field 'reviewDecisions' doesn't exist on type 'PullRequest'", messages);
    }

    [Fact]
    public async Task Webhook_payloads_fit_GitHubs_webhook_description()
    {
        var id = await CreateDeploymentAsync();
        await SendAsync(HttpMethod.Post, $"/repos/octo/app/deployments/{id}/statuses", """{"state":"in_progress"}""");

        await Eventually.TrueAsync(() => App.Received.Count >= 2, "both webhooks");
        var payloads = App.Received.Select(r => (Event: r.Headers["X-GitHub-Event"].ToString(), Body: JsonNode.Parse(r.Body))).ToList();
        Fits(OpenApiDescription.Webhooks, OpenApiDescription.Webhooks.Webhook("deployment-created"),
            payloads.Single(p => p.Event == "deployment").Body, "the deployment webhook");
        Fits(OpenApiDescription.Webhooks, OpenApiDescription.Webhooks.Webhook("deployment-status-created"),
            payloads.Single(p => p.Event == "deployment_status").Body, "the deployment_status webhook");
    }

    [Fact]
    public async Task Pull_request_conversation_answers_fit_GitHubs_description()
    {
        var repository = GitHub.State.Repository("octo", "app");
        var fork = GitHub.State.ForkOf("someone", "app");
        var pull = GitHub.State.OpenPullRequest(repository, 7, new string('a', 40));
        GitHub.State.OpenPullRequest(repository, 8, new string('c', 40), fork: fork);
        GitHub.State.Review(pull, "reviewer", "APPROVED");
        GitHub.State.Permissions[("octo/app", "octocat")] = "maintain";
        GitHub.State.TeamMembers[("octo", "deployers", "octocat")] = true;
        GitHub.State.Branches[("octo/app", "main")] = new string('d', 40);
        var comment = GitHub.Comment(pull, "octocat", ".deploy");

        foreach (var (path, template) in new[]
        {
            ("/repos/octo/app/pulls/7", "/repos/{owner}/{repo}/pulls/{pull_number}"),
            ("/repos/octo/app/pulls/8", "/repos/{owner}/{repo}/pulls/{pull_number}"),
            ("/repos/octo/app/pulls/7/reviews", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
            ("/repos/octo/app/collaborators/octocat/permission", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
            ("/repos/octo/app/collaborators/stranger/permission", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
            ("/orgs/octo/teams/deployers/memberships/octocat", "/orgs/{org}/teams/{team_slug}/memberships/{username}"),
            ("/repos/octo/app/branches/main", "/repos/{owner}/{repo}/branches/{branch}"),
            ("/repos/octo/app/issues/7/comments", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
        })
        {
            var (status, body) = await SendAsync(HttpMethod.Get, path);
            FitsAnswer("get", template, status, body);
        }

        var (notMember, nothing) = await SendAsync(HttpMethod.Get, "/orgs/octo/teams/deployers/memberships/stranger");
        Assert.True(OpenApiDescription.Rest.Answers("get", "/orgs/{org}/teams/{team_slug}/memberships/{username}", notMember));
        Assert.Null(nothing);

        var (posted, reply) = await SendAsync(HttpMethod.Post, "/repos/octo/app/issues/7/comments", """{"body":"done"}""");
        FitsAnswer("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments", posted, reply);
        const string Reactions = "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions";
        var (created, reaction) = await SendAsync(HttpMethod.Post, $"/repos/octo/app/issues/comments/{comment.Id}/reactions", """{"content":"eyes"}""");
        FitsAnswer("post", Reactions, created, reaction);
        var (again, same) = await SendAsync(HttpMethod.Post, $"/repos/octo/app/issues/comments/{comment.Id}/reactions", """{"content":"eyes"}""");
        FitsAnswer("post", Reactions, again, same);
        Assert.Equal((201, 200), (created, again));
        var (invalid, refusal) = await SendAsync(HttpMethod.Post, $"/repos/octo/app/issues/comments/{comment.Id}/reactions", """{"content":"party"}""");
        FitsAnswer("post", Reactions, invalid, refusal);
        GitHub.State.React(comment.Id, "alice", "+1"); // a person's, as a confirmation is answered
        var (listed, reactions) = await SendAsync(HttpMethod.Get, $"/repos/octo/app/issues/comments/{comment.Id}/reactions");
        FitsAnswer("get", Reactions, listed, reactions);
        Assert.Equal(["eyes", "+1"], reactions!.AsArray().Select(r => (string?)r!["content"]).ToList());
        Assert.Equal("User", (string?)reactions[1]!["user"]!["type"]);

        await Eventually.TrueAsync(() => App.Received.Count(r => r.Headers["X-GitHub-Event"] == "issue_comment") >= 2, "both comment webhooks");
        foreach (var (_, body) in App.Received.Where(r => r.Headers["X-GitHub-Event"] == "issue_comment"))
        {
            Fits(OpenApiDescription.Webhooks, OpenApiDescription.Webhooks.Webhook("issue-comment-created"), JsonNode.Parse(body), "the issue_comment webhook");
        }
    }

    [Fact]
    public async Task Pull_request_events_and_the_answers_previews_use_fit_GitHubs_descriptions()
    {
        var repository = GitHub.State.Repository("octo", "app");
        var pull = GitHub.State.OpenPullRequest(repository, 7, new string('a', 40));
        var fork = GitHub.State.OpenPullRequest(repository, 8, new string('c', 40), fork: GitHub.State.ForkOf("someone", "app"));
        GitHub.Opened(pull);
        GitHub.Opened(fork);
        GitHub.Push(pull, new string('b', 40));
        GitHub.Close(pull);
        GitHub.Reopen(pull);
        GitHub.Close(pull, merged: true);

        await Eventually.TrueAsync(() => App.Received.Count(r => r.Headers["X-GitHub-Event"] == "pull_request") >= 6, "the pull_request webhooks");
        var actions = new List<string>();
        foreach (var (_, body) in App.Received.Where(r => r.Headers["X-GitHub-Event"] == "pull_request"))
        {
            var payload = JsonNode.Parse(body)!;
            var action = (string)payload["action"]!;
            actions.Add(action);
            Fits(OpenApiDescription.Webhooks, OpenApiDescription.Webhooks.Webhook("pull-request-" + action), payload, $"the pull_request {action} webhook");
        }

        Assert.Equal(["opened", "opened", "synchronize", "closed", "reopened", "closed"], actions);
        var last = JsonNode.Parse(App.Received.Last(r => r.Headers["X-GitHub-Event"] == "pull_request").Body)!;
        Assert.True((bool)last["pull_request"]!["merged"]!);

        const string Comment = "/repos/{owner}/{repo}/issues/comments/{comment_id}";
        var (posted, created) = await SendAsync(HttpMethod.Post, "/repos/octo/app/issues/7/comments", """{"body":"first"}""");
        Assert.Equal(201, posted);
        var (edited, comment) = await SendAsync(HttpMethod.Patch, $"/repos/octo/app/issues/comments/{created!["id"]}", """{"body":"second"}""");
        FitsAnswer("patch", Comment, edited, comment);
        Assert.Equal("second", (string?)comment!["body"]);
        // GitHub answers 404 for a deleted comment, though its description lists only 200 and 422 here: the app handles both.
        var (missing, notFound) = await SendAsync(HttpMethod.Patch, "/repos/octo/app/issues/comments/999999", """{"body":"x"}""");
        Assert.Equal((404, "Not Found"), (missing, (string?)notFound!["message"]));
        var person = GitHub.Comment(pull, "octocat", "mine");
        var (forbidden, refusal) = await SendAsync(HttpMethod.Patch, $"/repos/octo/app/issues/comments/{person.Id}", """{"body":"not yours"}""");
        Assert.Equal(403, forbidden);
        Assert.NotNull(refusal);

        var (deleted, nothing) = await SendAsync(HttpMethod.Delete, "/repos/octo/app/environments/pr-7");
        Assert.True(OpenApiDescription.Rest.Answers("delete", "/repos/{owner}/{repo}/environments/{environment_name}", deleted));
        Assert.Equal(204, deleted);
        Assert.Null(nothing);
        Assert.Contains(("octo/app", "pr-7"), GitHub.State.DeletedEnvironments);
    }

    [Fact]
    public async Task Compare_and_update_branch_answers_fit_GitHubs_description()
    {
        var repository = GitHub.State.Repository("octo", "app");
        GitHub.State.OpenPullRequest(repository, 7, new string('a', 40));
        GitHub.State.Branches[("octo/app", "main")] = new string('d', 40);
        GitHub.State.Behind[("octo/app", "main", new string('a', 40))] = 2;
        const string Compare = "/repos/{owner}/{repo}/compare/{basehead}";
        const string Update = "/repos/{owner}/{repo}/pulls/{pull_number}/update-branch";

        var (behind, comparison) = await SendAsync(HttpMethod.Get, $"/repos/octo/app/compare/main...{new string('a', 40)}");
        var (current, upToDate) = await SendAsync(HttpMethod.Get, $"/repos/octo/app/compare/main...{new string('b', 40)}");
        var (accepted, updating) = await SendAsync(HttpMethod.Put, "/repos/octo/app/pulls/7/update-branch", $$"""{"expected_head_sha":"{{new string('a', 40)}}"}""");
        var (stale, refusal) = await SendAsync(HttpMethod.Put, "/repos/octo/app/pulls/7/update-branch", $$"""{"expected_head_sha":"{{new string('e', 40)}}"}""");

        FitsAnswer("get", Compare, behind, comparison);
        FitsAnswer("get", Compare, current, upToDate);
        Assert.Equal(("diverged", 2, "ahead", 0), ((string?)comparison!["status"], (int)comparison["behind_by"]!, (string?)upToDate!["status"], (int)upToDate["behind_by"]!));
        FitsAnswer("put", Update, accepted, updating);
        FitsAnswer("put", Update, stale, refusal);
        Assert.Equal((202, 422), (accepted, stale));
    }

    [Fact]
    public async Task Contents_and_commit_status_answers_fit_GitHubs_description()
    {
        const string Contents = "/repos/{owner}/{repo}/contents/{path}";
        GitHub.State.Files[("octo/app", ".github/deployfunctions.yml")] = "environments:\n  production: {}\n";

        var (found, file) = await SendAsync(HttpMethod.Get, "/repos/octo/app/contents/.github/deployfunctions.yml?ref=main");
        FitsAnswer("get", Contents, found, file);
        Assert.Equal("environments:\n  production: {}\n", Encoding.UTF8.GetString(Convert.FromBase64String(((string)file!["content"]!).Replace("\n", "", StringComparison.Ordinal))));
        var (missing, notFound) = await SendAsync(HttpMethod.Get, "/repos/octo/app/contents/.github/other.yml");
        FitsAnswer("get", Contents, missing, notFound);
        using (var conditional = new HttpRequestMessage(HttpMethod.Get, new Uri(GitHub.BaseAddress, "repos/octo/app/contents/.github/deployfunctions.yml?ref=main")))
        {
            conditional.Headers.Authorization = AuthenticationHeaderValue.Parse("token t");
            conditional.Headers.TryAddWithoutValidation("If-None-Match", file!["sha"] is not null ? $"W/\"{(string)file["sha"]!}\"" : "");
            using var again = await http.SendAsync(conditional);
            Assert.Equal(304, (int)again.StatusCode);
            Assert.True(OpenApiDescription.Rest.Answers("get", Contents, 304));
            Assert.Empty(await again.Content.ReadAsByteArrayAsync());
        }

        var (created, status) = await SendAsync(HttpMethod.Post, "/repos/octo/app/statuses/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            """{"state":"failure","context":"deployfunctions/config","description":"1 problem"}""");
        FitsAnswer("post", "/repos/{owner}/{repo}/statuses/{sha}", created, status);
    }

    [Fact]
    public async Task Hook_delivery_answers_fit_GitHubs_description()
    {
        GitHub.Send("ping", new JsonObject { ["zen"] = "Design for failure.", ["hook_id"] = 424242 });
        await Eventually.TrueAsync(() => GitHub.State.DeliveryLog().Count == 1, "the delivery logged");
        var id = GitHub.State.DeliveryLog()[0].Id;

        foreach (var (path, template, authorization) in new[]
        {
            ("/repos/octo/app/hooks/424242/deliveries", "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries", "token t"),
            ("/orgs/octo/hooks/424242/deliveries", "/orgs/{org}/hooks/{hook_id}/deliveries", "token t"),
            ("/app/hook/deliveries", "/app/hook/deliveries", "Bearer aaa.bbb.ccc"),
        })
        {
            var (listed, list) = await SendAsync(HttpMethod.Get, path, authorization: authorization);
            FitsAnswer("get", template, listed, list);
            Assert.NotEmpty(list!.AsArray());
            var (asked, accepted) = await SendAsync(HttpMethod.Post, $"{path}/{id}/attempts", "", authorization);
            FitsAnswer("post", template + "/{delivery_id}/attempts", asked, accepted);
        }
    }

    [Fact]
    public async Task Protection_rule_event_and_answers_fit_GitHubs_descriptions()
    {
        var repository = GitHub.State.Repository("octo", "app");
        Fits(OpenApiDescription.Webhooks, OpenApiDescription.Webhooks.Webhook("deployment-protection-rule-requested"),
            JsonNode.Parse(GitHub.ProtectionRuleRequested(repository, "production", new string('a', 40), 77, "alice", 42).ToJsonString()),
            "the derived deployment_protection_rule");

        const string Callback = "/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule";
        var (answered, nothing) = await SendAsync(HttpMethod.Post, "/repos/octo/app/actions/runs/77/deployment_protection_rule",
            """{"environment_name":"production","state":"approved","comment":"ok"}""");
        Assert.True(OpenApiDescription.Rest.Answers("post", Callback, answered));
        Assert.Null(nothing);

        const string Combined = "/repos/{owner}/{repo}/commits/{ref}/status";
        var (none, empty) = await SendAsync(HttpMethod.Get, $"/repos/octo/app/commits/{new string('a', 40)}/status");
        FitsAnswer("get", Combined, none, empty);
        GitHub.State.CombinedStatuses[new string('b', 40)] = ("failure", "ci/test");
        var (failing, failure) = await SendAsync(HttpMethod.Get, $"/repos/octo/app/commits/{new string('b', 40)}/status");
        FitsAnswer("get", Combined, failing, failure);
    }

    [Fact]
    public void The_derived_merged_pull_request_fixture_fits_GitHubs_webhook_description()
    {
        Fits(OpenApiDescription.Webhooks, OpenApiDescription.Webhooks.Webhook("pull-request-closed"),
            WebhookExamples.DerivedMergedPullRequest(), "the derived merged pull_request");
        Fits(OpenApiDescription.Webhooks, OpenApiDescription.Webhooks.Webhook("pull-request-closed"),
            JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("tools", "GitHubStandIn", "Examples", "pull_request.closed.merged.json"))),
            "the stand-in's merged pull_request example");
    }

    [Fact]
    public void The_checker_notices_what_GitHub_would_never_send()
    {
        var schema = OpenApiDescription.Rest.Response("get", Deployment, 200);
        var deployment = JsonNode.Parse("""{"id":"not-a-number","sha":null}""");

        var errors = OpenApiDescription.Rest.Check(deployment, schema);

        Assert.Contains(errors, e => e.Contains("$.id", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("lacks required 'creator'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("$.sha: is null", StringComparison.Ordinal));
    }
}
