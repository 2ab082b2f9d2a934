using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeployFunctions.Providers;

/// <summary>
/// POSTs the deployment as JSON to the environment's deploy hook, signed like GitHub signs webhooks
/// (<c>X-DeployFunctions-Signature-256: sha256=&lt;hex HMAC of the body&gt;</c>). 2xx = success; a JSON answer may carry
/// <c>environment_url</c> and <c>log_url</c>; any other status = failure; no answer in time = error. 202 = accepted, the
/// result comes later: the hook calls <c>POST /api/deployments/report</c> (signed the same way), or answers with a
/// <c>status_url</c> on its own host that is polled with back-off until it reports a final <c>state</c>.
/// </summary>
public sealed class HttpDeployHookProvider(HttpClient http) : IDeploymentProvider, IPolledProvider
{
    public const string SignatureHeader = "X-DeployFunctions-Signature-256";

    public string Kind => ProviderKinds.Http;

    /// <summary>The hook's contract (docs/providers.md): a repeated <c>deployment_id</c> is the same deployment, not a new one.</summary>
    public bool Idempotent => true;

    public Uri? LogUrlFor(DeploymentJob job) => null;

    public async Task<ProviderResult> DeployAsync(DeploymentJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var body = Body(job);
        using var request = new HttpRequestMessage(HttpMethod.Post, job.Settings.Url);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(SignatureHeader, Sign(body, job.Settings.Secret!));
        request.Headers.Add("X-GitHub-Deployment-Id", job.DeploymentId.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(job.Settings.TimeoutSeconds));
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var answer = await response.Content.ReadAsStringAsync(timeout.Token);
            var (environmentUrl, logUrl) = ReadUrls(answer);
            if (response.StatusCode == System.Net.HttpStatusCode.Accepted)
            {
                return new ProviderResult.Accepted(StatusUrl(answer, job.Settings.Url!), logUrl);
            }

            return response.IsSuccessStatusCode
                ? new ProviderResult.Succeeded(job.Noop ? environmentUrl : environmentUrl ?? job.Settings.EnvironmentUrl, logUrl,
                    job.Noop ? "Deploy hook accepted the dry run (noop)" : job.Action == DeploymentJob.Destroy ? "Deploy hook accepted the teardown" : "Deploy hook accepted the deployment")
                : new ProviderResult.Failed(logUrl, $"Deploy hook answered {(int)response.StatusCode}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DeploymentProviderException($"The deploy hook did not answer within {job.Settings.TimeoutSeconds} s");
        }
        catch (HttpRequestException exception)
        {
            throw new DeploymentProviderException($"The deploy hook could not be reached: {exception.HttpRequestError}", exception);
        }
    }

    /// <summary>
    /// Asks the hook's status URL how the deployment went: null while it is still running, else its result
    /// (<c>{"state": "success" | "failure" | "error", "description", "environment_url", "log_url"}</c>).
    /// </summary>
    public async Task<ProviderResult?> PollAsync(DeploymentJob job, Uri statusUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        using var request = new HttpRequestMessage(HttpMethod.Get, statusUrl);
        request.Headers.Add("X-GitHub-Deployment-Id", job.DeploymentId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(SignatureHeader, Sign(Encoding.UTF8.GetBytes(statusUrl.AbsoluteUri), job.Settings.Secret!));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Min(job.Settings.TimeoutSeconds, 30)));
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var answer = await response.Content.ReadAsStringAsync(timeout.Token);
            return response.IsSuccessStatusCode ? ReportedResult(answer) : null;
        }
        catch (Exception exception) when (exception is HttpRequestException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null; // unreachable for now: asked again later, and the watchdog bounds the wait
        }
    }

    /// <summary>A reported result (callback body or status answer); null while <c>state</c> is not final.</summary>
    public static ProviderResult? ReportedResult(string json)
    {
        JsonObject? report;
        try
        {
            report = JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }

        var (environmentUrl, logUrl) = ReadUrls(json);
        var description = report?["description"] is JsonValue d && d.TryGetValue<string>(out var text) ? text : null;
        return (report?["state"] as JsonValue)?.TryGetValue<string>(out var state) == true ? state switch
        {
            "success" => new ProviderResult.Succeeded(environmentUrl, logUrl, description ?? "Deploy hook reported success"),
            "failure" => new ProviderResult.Failed(logUrl, description ?? "Deploy hook reported failure"),
            "error" => new ProviderResult.Errored(description ?? "Deploy hook reported an error"),
            _ => null,
        } : null;
    }

    /// <summary>The answer's <c>status_url</c>, accepted only on the hook's own scheme and host (the hook is trusted, its answer's links only that far).</summary>
    private static Uri? StatusUrl(string answer, Uri hook)
    {
        try
        {
            return JsonNode.Parse(answer) is JsonObject json && json["status_url"] is JsonValue value && value.TryGetValue<string>(out var text) &&
                   Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme == hook.Scheme &&
                   string.Equals(url.Authority, hook.Authority, StringComparison.OrdinalIgnoreCase)
                ? url
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private static byte[] Body(DeploymentJob job)
    {
        JsonNode? payload = null;
        if (job.PayloadJson is { } json)
        {
            try
            {
                payload = JsonNode.Parse(json);
            }
            catch (JsonException)
            {
                payload = json;
            }
        }

        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["deployment_id"] = job.DeploymentId,
            ["repository"] = job.FullName,
            ["sha"] = job.Sha,
            ["ref"] = job.Ref,
            ["environment"] = job.Environment,
            ["task"] = job.Task,
            ["action"] = job.Action,
            ["noop"] = job.Noop,
            ["params"] = job.Params,
            ["payload"] = payload,
            ["delivery"] = job.DeliveryId,
        });
    }

    private static (Uri? EnvironmentUrl, Uri? LogUrl) ReadUrls(string answer)
    {
        try
        {
            var json = JsonNode.Parse(answer) as JsonObject;
            return (Url(json?["environment_url"]), Url(json?["log_url"]));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static Uri? Url(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && Uri.TryCreate(text, UriKind.Absolute, out var uri) &&
        uri.Scheme is "https" or "http"
            ? uri
            : null;
}
