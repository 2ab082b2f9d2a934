using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DeployFunctions.History;
using GitHubStandIn;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// The whole app on one machine: the real composition, the webhook function behind Kestrel, the queue functions
/// driven by <see cref="QueuePump"/> on a real Azurite, and the GitHub stand-in sending its webhooks back to the
/// ingress. Each pipeline has queues, containers and a table of its own.
/// </summary>
internal sealed class Pipeline : IAsyncDisposable
{
    private readonly HttpClient http = new();

    private Pipeline(Azurite azurite, StandInServer gitHub, IngressServer ingress, ServiceProvider services, QueuePump pump, string prefix)
    {
        Azurite = azurite;
        GitHub = gitHub;
        Ingress = ingress;
        Services = services;
        Pump = pump;
        Prefix = prefix;
    }

    /// <summary>Every answer the ingress gave to <see cref="DeliverAsync"/>, as text.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Answers { get; } = new();

    public Azurite Azurite { get; }
    public StandInServer GitHub { get; }
    public IngressServer Ingress { get; }
    public ServiceProvider Services { get; }
    public QueuePump Pump { get; }
    public string Prefix { get; }

    public static async Task<Pipeline> StartAsync(
        Azurite azurite, Action<Dictionary<string, string?>>? configure = null, long? installationId = null, ILoggerProvider? logs = null,
        Func<StandInOptions, StandInOptions>? gitHubOptions = null)
    {
        var prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        var standIn = new StandInOptions { WebhookSecret = Deliveries.Secret, InstallationId = installationId };
        var gitHub = new StandInServer(gitHubOptions?.Invoke(standIn) ?? standIn);
        await gitHub.StartAsync();
        gitHub.State.Repository("Codertocat", "Hello-World", "master"); // the repository of GitHub's example payloads, as they describe it
        ServiceProvider? services = null;
        var ingress = await IngressServer.StartAsync(() => services!);
        gitHub.WebhookUrl = ingress.WebhookUrl;
        services = TestHost.Services(azurite.ConnectionString, settings =>
        {
            settings["PullRequestsQueue"] = prefix + "-pull-requests";
            settings["DeploymentsQueue"] = prefix + "-deployments";
            settings["DeploymentStatusesQueue"] = prefix + "-deployment-statuses";
            settings["CommandsQueue"] = prefix + "-commands";
            settings["ProtectionRulesQueue"] = prefix + "-protection-rules";
            settings["PreviewsQueue"] = prefix + "-previews";
            settings["PreviewTable"] = prefix + "Previews";
            settings["LockTable"] = prefix + "Locks";
            settings["PayloadContainer"] = prefix + "-payloads";
            settings["LockContainer"] = prefix + "-locks";
            settings["HistoryTable"] = prefix + "History";
            settings["LedgerTable"] = prefix + "Ledger";
            settings["GitHub:ApiBaseUrl"] = gitHub.BaseAddress.ToString();
            settings["GitHub:RequestTimeoutSeconds"] = "5";
            settings["Deploy:ChecksRetrySeconds"] = "0.3";
            settings["Deploy:LockWaitSeconds"] = "0.2";
            settings["Retry:BaseDelaySeconds"] = "0.2";
            settings["Retry:MaxDelaySeconds"] = "1";
            settings["Environments:production:Provider"] = "simulated";
            settings["Environments:production:DelaySeconds"] = "0.2";
            configure?.Invoke(settings);
        }, logs);
        var pump = new QueuePump(azurite.Queues(), services);
        pump.Start(prefix + "-pull-requests", prefix + "-deployments", prefix + "-deployment-statuses", prefix + "-commands", prefix + "-protection-rules", prefix + "-previews");
        return new Pipeline(azurite, gitHub, ingress, services, pump, prefix);
    }

    /// <summary>Sends a signed delivery to the ingress over HTTP, as GitHub would; returns the status code.</summary>
    public async Task<int> DeliverAsync(string eventName, JsonNode payload, string? deliveryId = null)
    {
        var body = WebhookExamples.Bytes(payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, Ingress.WebhookUrl);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", eventName);
        request.Headers.Add("X-GitHub-Delivery", deliveryId ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", Deliveries.Sign(body));
        using var response = await http.SendAsync(request);
        Answers.Enqueue(await response.Content.ReadAsStringAsync());
        return (int)response.StatusCode;
    }

    public List<StandInDeployment> Deployments()
    {
        lock (GitHub.State.Gate)
        {
            return [.. GitHub.State.Deployments];
        }
    }

    public List<string> StatesOf(StandInDeployment deployment)
    {
        lock (GitHub.State.Gate)
        {
            return [.. deployment.Statuses.Select(s => s.State)];
        }
    }

    public Task<IReadOnlyList<StatusRecord>> HistoryAsync(string? repository = null, string? environment = null) =>
        Services.GetRequiredService<IDeploymentHistory>().RecentAsync(repository, environment, 100, CancellationToken.None);

    public async Task<int> PoisonCountAsync(string queueSuffix)
    {
        var poison = Azurite.Queues().GetQueueClient($"{Prefix}-{queueSuffix}-poison");
        return await poison.ExistsAsync() ? (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0;
    }

    /// <summary>Set by a test that sends GitHub requests its description does not allow on purpose.</summary>
    public bool ExpectRefusals { get; set; }

    /// <summary>
    /// Stops everything, then fails the test if the app sent the stand-in any request GitHub's REST description or GraphQL
    /// schema does not allow: GitHub would have refused it.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await Pump.DisposeAsync();
        await Ingress.DisposeAsync();
        await GitHub.DisposeAsync();
        await Services.DisposeAsync();
        http.Dispose();
        var refused = GitHub.State.SchemaRefusals.Select(r => $"{r.Method} {r.Path}: {string.Join("; ", r.Errors)}")
            .Concat(GitHub.State.GraphQLRefusals.Select(r => $"GraphQL: {string.Join("; ", r.Errors)}"))
            .ToList();
        if (refused.Count > 0 && !ExpectRefusals)
        {
            throw new InvalidOperationException($"The app sent requests GitHub would refuse:\n{string.Join("\n", refused.Take(10))}");
        }
    }
}
