using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FunctionsHostHarness;
using GitHubStandIn;

namespace HostBench;

/// <summary>What the benchmark's parts share: the app's settings, a signed delivery, replies and successes read from the stand-in.</summary>
internal static class Kit
{
    public const string Secret = "host-benchmark-webhook-secret";

    public static Dictionary<long, DateTimeOffset> Replies(StandInServer gitHub) => Replies(gitHub.State);

    public static Dictionary<long, DateTimeOffset> Replies(StandInState state)
    {
        var replies = new Dictionary<long, DateTimeOffset>();
        lock (state.Gate)
        {
            foreach (var comment in state.Comments.Where(c => c.UserType == "Bot"))
            {
                var marker = System.Text.RegularExpressions.Regex.Match(comment.Body, "deployfunctions:reply:(\\d+)");
                if (marker.Success)
                {
                    replies[long.Parse(marker.Groups[1].Value, CultureInfo.InvariantCulture)] = comment.CreatedAt;
                }
            }
        }

        return replies;
    }

    public static List<(string Repository, DateTimeOffset At)> Succeeded(StandInServer gitHub)
    {
        lock (gitHub.State.Gate)
        {
            return [.. gitHub.State.Deployments.SelectMany(d => d.Statuses.Where(s => s.State == "success").Select(s => (d.Repository.FullName, s.CreatedAt)))];
        }
    }

    public static Dictionary<string, string> Settings(string storage, string prefix, Uri? gitHub) => new()
    {
        ["AzureWebJobsStorage"] = storage,
        ["Webhook__Secrets__0"] = Secret,
        ["GitHub__Token"] = "host-benchmark-token",
        ["Deploy__Repositories"] = "*",
        ["GitHub__ApiBaseUrl"] = gitHub?.ToString() ?? "http://127.0.0.1:9/",
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
        ["Environments__production__Provider"] = "simulated",
        ["Environments__production__DelaySeconds"] = "0",
    };

    public static async Task<HttpStatusCode> DeliverAsync(FunctionsHost host, string eventName, byte[] body, string? deliveryId = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.BaseAddress, "api/github/webhooks"));
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", eventName);
        request.Headers.Add("X-GitHub-Delivery", deliveryId ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body)));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Polls until <paramref name="found"/> gives something, for at most a minute; then fails with the worker's output.</summary>
    public static async Task<T> UntilAsync<T>(Func<T?> found, FunctionsHost host) where T : class
    {
        ArgumentNullException.ThrowIfNull(found);
        ArgumentNullException.ThrowIfNull(host);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            if (found() is { } value)
            {
                return value;
            }

            await Task.Delay(20);
        }

        throw new InvalidOperationException($"nothing within a minute.\n{host.WorkerOutput}");
    }

    public static double Median(List<double> values) => Percentile([.. values.Order()], 0.5);

    public static double Percentile(List<double> sorted, double p) => sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];

    /// <summary>
    /// Delivers until accepted, as GitHub's redelivery would after a 5xx (the same delivery id, a second later, at most five
    /// times); returns how many redeliveries it took. Any other answer ends the benchmark.
    /// </summary>
    public static async Task<int> AcceptAsync(FunctionsHost host, string eventName, JsonNode payload)
    {
        var body = Encoding.UTF8.GetBytes(payload.ToJsonString());
        var deliveryId = Guid.NewGuid().ToString();
        for (var redeliveries = 0; ; redeliveries++)
        {
            var status = await DeliverAsync(host, eventName, body, deliveryId);
            if (status == HttpStatusCode.Accepted)
            {
                return redeliveries;
            }

            if ((int)status < 500 || redeliveries == 5)
            {
                throw new InvalidOperationException($"{eventName} answered {status}:\n{host.WorkerOutput}");
            }

            await Task.Delay(1000);
        }
    }
}
