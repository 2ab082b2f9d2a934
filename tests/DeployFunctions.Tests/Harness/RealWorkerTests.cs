using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text.Json.Nodes;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using FunctionsHostHarness;

namespace DeployFunctions.Tests.Harness;

/// <summary>
/// The built app started as a real isolated worker process under the host harness: Program.cs, the composition, the
/// worker's own function index and the ASP.NET Core integration's HTTP forwarding, as the Functions host drives them.
/// </summary>
public sealed class RealWorkerTests(Azurite azurite) : IClassFixture<Azurite>
{
    public static string AppDirectory => Path.Combine(RepositoryRoot.Path, "src", "DeployFunctions", "bin",
        typeof(RealWorkerTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration, "net10.0");

    private Dictionary<string, string> Settings(string prefix) => new()
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["Webhook__Secrets__0"] = Deliveries.Secret,
        ["GitHub__Token"] = "harness-token",
        ["Deploy__Repositories"] = "*",
        ["GitHub__ApiBaseUrl"] = "http://127.0.0.1:9/",
        ["PullRequestsQueue"] = prefix + "-pull-requests",
        ["DeploymentsQueue"] = prefix + "-deployments",
        ["DeploymentStatusesQueue"] = prefix + "-deployment-statuses",
        ["CommandsQueue"] = prefix + "-commands",
        ["ProtectionRulesQueue"] = prefix + "-protection-rules",
        ["PreviewsQueue"] = prefix + "-previews",
        ["WatchdogSchedule"] = "0 */5 * * * *",
        ["PoisonWatchSchedule"] = "30 */5 * * * *",
        ["SweeperSchedule"] = "0 */10 * * * *",
        ["PreviewSweepSchedule"] = "0 20 * * * *",
        ["PayloadContainer"] = prefix + "-payloads",
        ["LockContainer"] = prefix + "-locks",
        ["HistoryTable"] = prefix + "History",
        ["LedgerTable"] = prefix + "Ledger",
        ["LockTable"] = prefix + "Locks",
    };

    private Task<FunctionsHost> StartAsync(
        Action<Dictionary<string, string>>? change = null, Action<Microsoft.Azure.WebJobs.Host.QueuesOptions>? queues = null)
    {
        var settings = Settings("h" + Guid.NewGuid().ToString("N")[..10]);
        change?.Invoke(settings);
        return FunctionsHost.StartAsync(new HostOptions
        {
            AppDirectory = AppDirectory, WorkerAssembly = "DeployFunctions.dll", Settings = settings, AdjustQueues = queues,
        });
    }

    [Fact]
    public async Task The_timer_functions_run_in_the_real_worker_on_the_WebJobs_timer_and_the_poison_watch_notifies()
    {
        await using var notifications = await RecordingServer.StartAsync();
        string prefix = "";
        await using var host = await StartAsync(s =>
        {
            prefix = s["PullRequestsQueue"][..^"-pull-requests".Length];
            s["WatchdogSchedule"] = "*/2 * * * * *";
            s["PoisonWatchSchedule"] = "*/2 * * * * *";
            s["SweeperSchedule"] = "*/2 * * * * *";
            s["PreviewSweepSchedule"] = "*/2 * * * * *";
            s["Notifications__WebhookUrl"] = notifications.Url.ToString();
        });
        var poisoned = new WebhookEnvelope
        {
            DeliveryId = "lost-in-poison", Event = "pull_request", Action = "closed", ReceivedAt = DateTimeOffset.UtcNow, Repository = "octo/app",
        };
        await azurite.Queues().GetQueueClient(prefix + "-pull-requests-poison")
            .SendCreatingQueueAsync(BinaryData.FromBytes(poisoned.Serialize("{}"u8)), null, CancellationToken.None);

        await Eventually.TrueAsync(() => notifications.Received.Any(n => n.Body.Contains("lost-in-poison", StringComparison.Ordinal)), "the poison notification");
        await Eventually.TrueAsync(() => host.Timers!.Completed.Count == 4, "every timer function ticked");

        Assert.Equal(["DeliverySweeper", "DeploymentWatchdog", "PoisonWatch", "PreviewSweeper"], host.Timers!.Completed.Keys.Order());
        Assert.Empty(host.Timers.Failures);
        await Task.Delay(2500); // more ticks: still one notification
        Assert.Single(notifications.Received, n => n.Body.Contains("lost-in-poison", StringComparison.Ordinal));
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> DeliverAsync(FunctionsHost host, string eventName, JsonNode payload)
    {
        using var http = new HttpClient();
        var body = WebhookExamples.Bytes(payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.BaseAddress, "api/github/webhooks"));
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", eventName);
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", Deliveries.Sign(body));
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task A_signed_ping_through_the_real_worker_is_answered_pong()
    {
        await using var host = await StartAsync();

        var (status, body) = await DeliverAsync(host, "ping", WebhookExamples.Get("ping"));

        Assert.True(status == HttpStatusCode.OK, $"{status} {body}\n{host.WorkerOutput}");
        Assert.Equal("pong", (string?)body!["status"]);
    }

    [Fact]
    public async Task A_merged_pull_request_through_the_real_worker_is_accepted_onto_the_queue_its_app_setting_names()
    {
        var queue = "";
        await using var host = await StartAsync(settings => queue = settings["PullRequestsQueue"]);

        var (status, body) = await DeliverAsync(host, "pull_request", WebhookExamples.DerivedMergedPullRequest());

        Assert.True(status == HttpStatusCode.Accepted, $"{status} {body}\n{host.WorkerOutput}");
        Assert.Equal(queue, (string?)body!["queue"]);
        Assert.Equal(1, (await azurite.Queues().GetQueueClient(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task A_forged_delivery_is_refused_by_the_real_worker()
    {
        await using var host = await StartAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.BaseAddress, "api/github/webhooks"));
        request.Content = new StringContent("""{"action":"closed"}""", System.Text.Encoding.UTF8, "application/json");
        request.Headers.Add("X-GitHub-Event", "pull_request");
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + new string('0', 64));

        using var response = await http.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{response.StatusCode}\n{host.WorkerOutput}");
    }

    [Fact]
    public async Task Without_a_webhook_secret_the_worker_refuses_to_start_and_the_harness_says_why()
    {
        var failure = await Assert.ThrowsAsync<WorkerStartException>(() => StartAsync(settings => settings.Remove("Webhook__Secrets__0")));

        Assert.Contains("exited", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Webhook__Secrets__0", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_queue_trigger_names_its_queue_by_an_app_setting_that_resolves_and_uses_the_hosts_storage()
    {
        var settings = new Dictionary<string, string>();
        await using var host = await StartAsync(s => settings = s);

        var queues = host.Functions.Where(f => f.TriggerType == "queueTrigger").ToDictionary(f => f.Name, f => f.Trigger);

        Assert.Equal(["DeploymentProcessing", "DeploymentStatusLog", "MergedPullRequest", "ProtectionRule", "PullRequestCommand", "PullRequestPreview"], queues.Keys.Order());
        Assert.Equal(settings["PullRequestsQueue"], host.Resolve((string)queues["MergedPullRequest"]["queueName"]!));
        Assert.Equal(settings["DeploymentsQueue"], host.Resolve((string)queues["DeploymentProcessing"]["queueName"]!));
        Assert.Equal(settings["DeploymentStatusesQueue"], host.Resolve((string)queues["DeploymentStatusLog"]["queueName"]!));
        Assert.Equal(settings["CommandsQueue"], host.Resolve((string)queues["PullRequestCommand"]["queueName"]!));
        Assert.Equal(settings["ProtectionRulesQueue"], host.Resolve((string)queues["ProtectionRule"]["queueName"]!));
        Assert.Equal(settings["PreviewsQueue"], host.Resolve((string)queues["PullRequestPreview"]["queueName"]!));
        Assert.All(queues.Values, trigger => Assert.Equal("AzureWebJobsStorage", (string?)trigger["connection"]));
    }

    [Theory]
    [InlineData("board/assets/{name}", "board/assets/board.js", true)]
    [InlineData("board/assets/{name}", "board/assets", false)]
    [InlineData("board/assets/{name}", "board/assets/a/b", false)]
    [InlineData("board", "Board", true)]
    [InlineData("board", "board/data", false)]
    [InlineData("files/{**rest}", "files/a/b/c", true)]
    [InlineData("items/{id:long}", "items/7", true)]
    public void The_harness_routes_by_the_hosts_route_templates(string template, string route, bool matches) =>
        Assert.Equal(matches, FunctionsHost.RouteMatches(template, route));

    [Fact]
    public async Task The_history_endpoint_needs_the_function_key_as_in_Azure()
    {
        await using var host = await StartAsync();
        using var http = new HttpClient();

        using var withoutKey = await http.GetAsync(new Uri(host.BaseAddress, "api/deployments/history"));
        using var withKey = await http.GetAsync(new Uri(host.BaseAddress, "api/deployments/history?code=harness-function-key"));

        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.True(withKey.StatusCode == HttpStatusCode.OK, $"{withKey.StatusCode}\n{host.WorkerOutput}");
        Assert.IsType<JsonArray>(JsonNode.Parse(await withKey.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Every_capability_the_worker_advertises_is_one_the_harness_handles()
    {
        await using var host = await StartAsync();

        Assert.Contains("HttpUri", host.WorkerCapabilities.Keys);
        Assert.Empty(host.WorkerCapabilities.Keys.Except(FunctionsHost.HandledCapabilities.Keys));
    }

    [Fact]
    public async Task A_merged_pull_request_deploys_end_to_end_through_the_real_worker_and_the_real_queue_listener()
    {
        await using var gitHub = new GitHubStandIn.StandInServer(new GitHubStandIn.StandInOptions { WebhookSecret = Deliveries.Secret });
        await gitHub.StartAsync();
        await using var host = await StartAsync(settings =>
        {
            settings["GitHub__ApiBaseUrl"] = gitHub.BaseAddress.ToString();
            settings["Environments__production__Provider"] = "simulated";
            settings["Environments__production__DelaySeconds"] = "0";
        });
        gitHub.WebhookUrl = new Uri(host.BaseAddress, "api/github/webhooks");
        var merged = WebhookExamples.DerivedMergedPullRequest();
        merged["pull_request"]!["base"]!["ref"] = (string?)merged["repository"]!["default_branch"];
        merged["pull_request"]!["labels"] = new JsonArray();

        var (status, _) = await DeliverAsync(host, "pull_request", merged);

        Assert.Equal(HttpStatusCode.Accepted, status);
        await Eventually.TrueAsync(() => States(gitHub).Contains("success") || host.Queues!.Failures > 0, "the deployment finished",
            TimeSpan.FromSeconds(60));
        Assert.True(States(gitHub).Contains("success"),
            $"queue invocations {host.Queues!.Invocations}, failed {host.Queues.Failures}; GitHub saw: " +
            string.Join("; ", gitHub.State.Requests.Select(r => $"{r.Method} {r.Path} {r.Status}")) + "\n" + host.WorkerOutput);
        Assert.Equal(["in_progress", "success"], States(gitHub));
        using var http = new HttpClient();
        await Eventually.TrueAsync(async () => (await HistoryAsync(http, host)).Count == 2, "both statuses in the history", TimeSpan.FromSeconds(30));
        Assert.True(host.Queues!.Invocations >= 4, $"queue invocations: {host.Queues.Invocations}"); // merge, deployment, two statuses
        Assert.Equal(0, host.Queues.Failures);

        // The deploy board, through the real worker: the page and its data need the key; its script does not.
        await Eventually.TrueAsync(async () => (await http.GetStringAsync(new Uri(host.BaseAddress, "api/board/data?code=harness-function-key")))
            .Contains("\"sha\":\"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c\"", StringComparison.Ordinal), "the merge live on the board", TimeSpan.FromSeconds(30));
        using var page = await http.GetAsync(new Uri(host.BaseAddress, "api/board?code=harness-function-key"));
        using var anonymousPage = await http.GetAsync(new Uri(host.BaseAddress, "api/board"));
        using var anonymousData = await http.GetAsync(new Uri(host.BaseAddress, "api/metrics/dora"));
        using var script = await http.GetAsync(new Uri(host.BaseAddress, "api/board/assets/board.js"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html; charset=utf-8", page.Content.Headers.ContentType?.ToString());
        Assert.Equal(DeployFunctions.Functions.BoardFunctions.ContentSecurityPolicy, string.Join(",", page.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousPage.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousData.StatusCode);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains("immutable", script.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_that_keeps_failing_lands_in_the_poison_queue_after_max_dequeue_count_through_the_real_listener()
    {
        var queue = "";
        // host.json's 30 s visibility timeout between attempts, shortened so five attempts fit in a test.
        await using var host = await StartAsync(settings => queue = settings["PullRequestsQueue"],
            queues => (queues.VisibilityTimeout, queues.MaxPollingInterval) = (TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(200)));
        var client = azurite.Queues().GetQueueClient(queue);
        await client.CreateIfNotExistsAsync();

        await client.SendMessageAsync("this is not a webhook envelope");

        var poison = azurite.Queues().GetQueueClient(queue + "-poison");
        await Eventually.TrueAsync(async () => await poison.ExistsAsync() && (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount == 1,
            "the message in the poison queue", TimeSpan.FromSeconds(60));
        Assert.Equal(5, host.Queues!.Failures); // host.json maxDequeueCount

        // The operator's look, through the real worker: keyed, and it takes nothing.
        using var http = new HttpClient();
        using var withoutKey = await http.GetAsync(new Uri(host.BaseAddress, "api/deliveries/poison"));
        var look = JsonNode.Parse(await http.GetStringAsync(new Uri(host.BaseAddress, "api/deliveries/poison?code=harness-function-key")))!.AsArray();
        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        var listed = Assert.Single(look, m => (string?)m!["queue"] == queue)!;
        Assert.Contains("not a webhook envelope", (string?)listed["reason"], StringComparison.Ordinal);
        Assert.Equal("this is not a webhook envelope", (await poison.ReceiveMessageAsync()).Value.Body.ToString());
    }

    private static List<string> States(GitHubStandIn.StandInServer gitHub)
    {
        lock (gitHub.State.Gate)
        {
            return [.. gitHub.State.Deployments.SelectMany(d => d.Statuses).OrderBy(s => s.Id).Select(s => s.State)];
        }
    }

    private static async Task<JsonArray> HistoryAsync(HttpClient http, FunctionsHost host) =>
        JsonNode.Parse(await http.GetStringAsync(new Uri(host.BaseAddress, "api/deployments/history?repository=Codertocat/Hello-World&code=harness-function-key")))!.AsArray();
}
