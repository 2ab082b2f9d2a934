using System.Reflection;
using System.Text.Json.Nodes;
using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Host;

/// <summary>
/// What only the Functions host reads, checked in the app's build output: nothing on this machine runs the host,
/// so these files are the contract.
/// </summary>
public sealed class HostContractTests
{
    private static readonly string Output = RepositoryRoot.Combine(
        "src", "DeployFunctions", "bin",
        typeof(HostContractTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration,
        "net10.0");

    private static JsonArray Metadata() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Output, "functions.metadata")))!.AsArray();

    private static JsonObject Function(string name) =>
        Metadata().Single(f => (string?)f!["name"] == name)!.AsObject();

    [Fact]
    public void Webhook_function_is_an_anonymous_POST_on_github_webhooks()
    {
        var trigger = Function("GitHubWebhook")["bindings"]!.AsArray().Single(b => (string?)b!["type"] == "httpTrigger")!;

        Assert.Equal("Anonymous", (string?)trigger["authLevel"]);
        Assert.Equal(["post"], trigger["methods"]!.AsArray().Select(m => (string?)m));
        Assert.Equal("github/webhooks", (string?)trigger["route"]);
        Assert.Equal("dotnet-isolated", (string?)Function("GitHubWebhook")["language"]);
    }

    [Theory]
    [InlineData("PoisonList", "get", "deliveries/poison")]
    [InlineData("PoisonReplay", "post", "deliveries/poison/replay")]
    public void The_poison_look_and_replay_need_the_hosts_master_key_and_stay_off_the_hosts_admin_routes(string function, string method, string route)
    {
        var trigger = Function(function)["bindings"]!.AsArray().Single(b => (string?)b!["type"] == "httpTrigger")!;

        Assert.Equal("Admin", (string?)trigger["authLevel"]);
        Assert.Equal([method], trigger["methods"]!.AsArray().Select(m => (string?)m));
        Assert.Equal(route, (string?)trigger["route"]);
        Assert.False(route.StartsWith("admin", StringComparison.OrdinalIgnoreCase)); // the host keeps /admin for itself
    }

    [Theory]
    [InlineData("Board", "board")]
    [InlineData("BoardData", "board/data")]
    [InlineData("DoraMetrics", "metrics/dora")]
    [InlineData("DeploymentHistory", "deployments/history")]
    public void The_board_its_data_and_the_history_need_the_function_key(string function, string route)
    {
        var trigger = Function(function)["bindings"]!.AsArray().Single(b => (string?)b!["type"] == "httpTrigger")!;

        Assert.Equal("Function", (string?)trigger["authLevel"]);
        Assert.Equal(["get"], trigger["methods"]!.AsArray().Select(m => (string?)m));
        Assert.Equal(route, (string?)trigger["route"]);
    }

    [Fact]
    public void Only_github_facing_endpoints_and_the_boards_static_files_are_anonymous()
    {
        var anonymous = Metadata()
            .Where(f => f!["bindings"]!.AsArray().Any(b => (string?)b!["type"] == "httpTrigger" && (string?)b["authLevel"] == "Anonymous"))
            .Select(f => (string?)f!["name"])
            .Order(StringComparer.Ordinal);

        // The webhook and the hook's report are signed (HMAC); the board's assets are its script, styles and chart library.
        Assert.Equal(["BoardAsset", "DeploymentReport", "GitHubWebhook"], anonymous);
    }

    [Theory]
    [InlineData("MergedPullRequest", "%PullRequestsQueue%")]
    [InlineData("DeploymentProcessing", "%DeploymentsQueue%")]
    [InlineData("DeploymentStatusLog", "%DeploymentStatusesQueue%")]
    [InlineData("PullRequestCommand", "%CommandsQueue%")]
    [InlineData("ProtectionRule", "%ProtectionRulesQueue%")]
    [InlineData("PullRequestPreview", "%PreviewsQueue%")]
    public void Each_queue_has_one_trigger_bound_to_its_app_setting(string function, string queueName)
    {
        var triggers = Metadata()
            .SelectMany(f => f!["bindings"]!.AsArray().Select(b => (Function: (string?)f["name"], Binding: b!)))
            .Where(x => (string?)x.Binding["type"] == "queueTrigger" && (string?)x.Binding["queueName"] == queueName)
            .ToList();

        var trigger = Assert.Single(triggers);
        Assert.Equal(function, trigger.Function);
        Assert.Equal("AzureWebJobsStorage", (string?)trigger.Binding["connection"]);
    }

    [Fact]
    public void Queue_setting_names_in_the_bindings_are_in_the_sample_settings()
    {
        var sample = JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("local.settings.sample.json")))!["Values"]!.AsObject();
        var settings = Metadata()
            .SelectMany(f => f!["bindings"]!.AsArray())
            .Select(b => (string?)b!["queueName"])
            .OfType<string>()
            .Select(q => q.Trim('%'));

        Assert.All(settings, setting => Assert.True(sample.ContainsKey(setting), $"{setting} missing from local.settings.sample.json"));
    }

    [Fact]
    public void Extensions_json_loads_the_storage_queue_extension()
    {
        var extensions = JsonNode.Parse(File.ReadAllText(Path.Combine(Output, "extensions.json")))!["extensions"]!.AsArray();

        Assert.Contains(extensions, e => (string?)e!["name"] == "AzureStorageQueues");
        var queues = extensions.Single(e => (string?)e!["name"] == "AzureStorageQueues")!;
        var hintPath = ((string?)queues["hintPath"])!.Replace("./", "", StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Output, hintPath)), $"{hintPath} is not in the build output");
    }

    [Fact]
    public void Host_json_in_the_output_is_the_repository_one_with_the_queue_settings()
    {
        var output = File.ReadAllText(Path.Combine(Output, "host.json"));
        Assert.Equal(File.ReadAllText(RepositoryRoot.Combine("host.json")), output);

        var host = JsonNode.Parse(output)!;
        var queues = host["extensions"]!["queues"]!;
        Assert.Equal("2.0", (string?)host["version"]);
        Assert.Equal("00:00:01", (string?)queues["maxPollingInterval"]);
        Assert.Equal(5, (int)queues["maxDequeueCount"]!);
        Assert.Equal("base64", (string?)queues["messageEncoding"]);
        Assert.Equal("api", (string?)host["extensions"]!["http"]!["routePrefix"]);
    }

    [Fact]
    public void Worker_config_starts_the_app_assembly()
    {
        var worker = JsonNode.Parse(File.ReadAllText(Path.Combine(Output, "worker.config.json")))!;

        Assert.Equal("DeployFunctions.dll", (string?)worker["description"]!["defaultWorkerPath"]);
    }
}
