using System.Text.Json;
using System.Text.Json.Nodes;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using GitHubStandIn;
using Octokit.Webhooks.Events.Deployment;
using Octokit.Webhooks.Events.DeploymentStatus;

namespace DeployFunctions.Tests.FirstRun;

/// <summary>The stand-in speaks GitHub: its JSON has the real payloads' shapes and its webhooks are signed like GitHub's.</summary>
public sealed class StandInContractTests : IAsyncLifetime
{
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

    private async Task<JsonObject> PostAsync(string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(GitHub.BaseAddress, path));
        request.Headers.Add("Authorization", "token t");
        request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    private async Task<(JsonObject Deployment, JsonObject Status)> CreateBothAsync()
    {
        var deployment = await PostAsync("repos/octo/app/deployments",
            """{"ref":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","environment":"production","payload":{"created_by":"deployfunctions"}}""");
        var status = await PostAsync($"repos/octo/app/deployments/{deployment["id"]}/statuses", """{"state":"success","environment_url":"https://app.example.com/"}""");
        await Eventually.TrueAsync(() => App.Received.Count == 2, "two webhooks");
        return (deployment, status);
    }

    private static HashSet<string> Keys(JsonNode? node) => [.. node!.AsObject().Select(p => p.Key)];

    [Fact]
    public async Task Deployment_and_status_answers_have_every_field_of_GitHubs_real_ones()
    {
        var (deployment, status) = await CreateBothAsync();

        var realDeployment = WebhookExamples.Get("deployment", "created")["deployment"];
        var realStatus = WebhookExamples.Get("deployment_status", "created")["deployment_status"];
        Assert.Subset(Keys(deployment), Keys(realDeployment));
        Assert.Subset(Keys(status), Keys(realStatus));
    }

    [Fact]
    public async Task Webhooks_are_signed_like_GitHubs_and_read_as_GitHubs_events()
    {
        await CreateBothAsync();
        var received = App.Received.ToArray();
        var signature = new WebhookSignature(Deliveries.Options());

        Assert.Equal(["deployment", "deployment_status"], received.Select(r => r.Headers["X-GitHub-Event"].ToString()));
        foreach (var (headers, body) in received)
        {
            Assert.True(signature.IsValid(headers["X-Hub-Signature-256"], System.Text.Encoding.UTF8.GetBytes(body)));
            Assert.True(Guid.TryParse(headers["X-GitHub-Delivery"], out _));
            Assert.StartsWith("GitHub-Hookshot/", headers.UserAgent.ToString(), StringComparison.Ordinal);
        }

        var deployment = JsonSerializer.Deserialize<DeploymentCreatedEvent>(received[0].Body)!;
        var status = JsonSerializer.Deserialize<DeploymentStatusCreatedEvent>(received[1].Body)!;
        Assert.Equal("created", deployment.Action);
        Assert.Equal("octo/app", deployment.Repository!.FullName);
        Assert.Equal(42, deployment.Installation!.Id);
        Assert.Equal("success", status.DeploymentStatus.State.StringValue);
        Assert.Equal(deployment.Deployment.Id, status.Deployment.Id);
    }

    [Fact]
    public async Task Webhook_payloads_have_the_real_payloads_top_level_shape()
    {
        await CreateBothAsync();
        var received = App.Received.ToArray();

        Assert.Subset(Keys(JsonNode.Parse(received[0].Body)), Keys(WebhookExamples.Get("deployment", "created")).Except(["organization", "workflow", "workflow_run"]).ToHashSet());
        Assert.Subset(Keys(JsonNode.Parse(received[1].Body)), Keys(WebhookExamples.Get("deployment_status", "created")).Except(["organization", "check_run", "workflow", "workflow_run"]).ToHashSet());
        // Every repository field the stand-in writes is one GitHub writes too.
        Assert.Subset(Keys(WebhookExamples.Get("deployment", "created")["repository"]), Keys(JsonNode.Parse(received[0].Body)!["repository"]));
    }

    [Fact]
    public async Task Invalid_status_and_missing_auth_are_refused_like_GitHub_does()
    {
        var deployment = await PostAsync("repos/octo/app/deployments", """{"ref":"main"}""");

        var invalid = await PostAsync($"repos/octo/app/deployments/{deployment["id"]}/statuses", """{"state":"done"}""");
        using var anonymous = await http.GetAsync(new Uri(GitHub.BaseAddress, "repos/octo/app/deployments"));

        Assert.StartsWith("Validation Failed", (string?)invalid["message"], StringComparison.Ordinal);
        Assert.Equal(401, (int)anonymous.StatusCode);
    }

    private async Task<(int Status, JsonObject? Body)> SendAsync(HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(GitHub.BaseAddress, path));
        request.Headers.Add("Authorization", "token t");
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text)?.AsObject());
    }

    [Theory]
    [InlineData("POST", "repos/octo/app/deployments", """{"ref":"main","required_context":[]}""", "'required_context' is not a field GitHub takes here")]
    [InlineData("POST", "repos/octo/app/deployments", """{"environment":"production"}""", "lacks required 'ref'")]
    [InlineData("POST", "repos/octo/app/deployments", """{"ref":"main","auto_merge":"no"}""", "$.auto_merge: is String, schema wants boolean")]
    [InlineData("POST", "repos/octo/app/issues/comments/1/reactions", """{"content":"party"}""", "is not one of")]
    [InlineData("POST", "repos/octo/app/actions/runs/9/deployment_protection_rule", """{"state":"approved","comment":"ok"}""", "lacks required 'environment_name'")]
    [InlineData("GET", "repos/octo/app/deployments?per_page=many", null, "query parameter 'per_page': 'many' is not a integer")]
    [InlineData("GET", "repos/octo/app/deployments?environmnet=production", null, "query parameter 'environmnet' is not one GET /repos/{owner}/{repo}/deployments takes")]
    public async Task A_request_GitHubs_description_does_not_allow_is_refused_with_422_and_remembered(string method, string path, string? body, string why)
    {
        var (status, answer) = await SendAsync(new HttpMethod(method), path, body);

        Assert.Equal(422, status);
        Assert.Contains(why, (string?)answer!["message"], StringComparison.Ordinal);
        Assert.NotEmpty(answer["errors"]!.AsArray());
        Assert.NotNull(answer["documentation_url"]);
        Assert.Contains(GitHub.State.SchemaRefusals, r => r.Errors.Any(e => e.Contains(why, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_route_GitHub_does_not_have_is_404_and_what_GitHub_refuses_by_rule_is_refused_too()
    {
        var (unknown, notFound) = await SendAsync(HttpMethod.Get, "repos/octo/app/deploymentz");
        var (noDeployment, _) = await SendAsync(HttpMethod.Post, "repos/octo/app/deployments/424242/statuses", """{"state":"success"}""");
        var (noComment, _) = await SendAsync(HttpMethod.Post, "repos/octo/app/issues/comments/424242/reactions", """{"content":"eyes"}""");
        var (first, _) = await SendAsync(HttpMethod.Post, "repos/octo/app/actions/runs/9/deployment_protection_rule", """{"environment_name":"production","state":"approved"}""");
        var (second, again) = await SendAsync(HttpMethod.Post, "repos/octo/app/actions/runs/9/deployment_protection_rule", """{"environment_name":"production","state":"approved"}""");

        Assert.Equal((404, "Not Found"), (unknown, (string?)notFound!["message"]));
        Assert.Equal((404, 404), (noDeployment, noComment));
        Assert.Equal((204, 422), (first, second));
        Assert.Contains("No pending deployment protection rule", (string?)again!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pipeline_fails_its_test_when_the_app_sent_GitHub_a_request_it_would_refuse()
    {
        await using var azurite = new Azurite();
        await azurite.InitializeAsync();
        {
            var pipeline = await Support.Pipeline.StartAsync(azurite);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(pipeline.GitHub.BaseAddress, "repos/octo/app/deployments"));
            request.Headers.Add("Authorization", "token t");
            request.Content = new StringContent("""{"ref":"main","enviroment":"production"}""", System.Text.Encoding.UTF8, "application/json");
            using var _ = await http.SendAsync(request);

            var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.DisposeAsync());

            Assert.Contains("'enviroment' is not a field GitHub takes here", failure.Message, StringComparison.Ordinal);
        }
    }
}
