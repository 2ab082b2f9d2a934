using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Octokit;

namespace DeployFunctions.Deployments;

/// <summary>One deployment to carry out, as GitHub announced it.</summary>
public sealed record DeploymentJob
{
    public required string Owner { get; init; }
    public required string Repository { get; init; }
    public required long DeploymentId { get; init; }
    public required string Sha { get; init; }
    public required string Ref { get; init; }
    public required string Environment { get; init; }
    public required string Task { get; init; }

    /// <summary>A dry run (<c>.noop</c>): the provider reports what it would do and changes nothing.</summary>
    public bool Noop { get; init; }

    /// <summary>The deployment's payload as GitHub sent it (JSON), or null.</summary>
    public string? PayloadJson { get; init; }

    public required string DeliveryId { get; init; }

    /// <summary>The branch a dispatched workflow runs from: the merge's base branch, else the default branch.</summary>
    public required string Branch { get; init; }

    public required EnvironmentOptions Settings { get; init; }
    public required IGitHubClient GitHub { get; init; }

    public string FullName => $"{Owner}/{Repository}";
}

/// <summary>How a provider's work ended.</summary>
public abstract record ProviderResult
{
    private ProviderResult()
    {
    }

    public sealed record Succeeded(Uri? EnvironmentUrl, Uri? LogUrl, string Description) : ProviderResult;

    /// <summary>The target said no: the deployment's status becomes <c>failure</c>.</summary>
    public sealed record Failed(Uri? LogUrl, string Description) : ProviderResult;

    /// <summary>The work could not be done (unreachable, timed out): the deployment's status becomes <c>error</c>.</summary>
    public sealed record Errored(string Description) : ProviderResult;

    /// <summary>Someone else (a workflow) reports the final status.</summary>
    public sealed record HandedOff(string Description) : ProviderResult;

    /// <summary>An asynchronous hook took it (202) and reports later: by a signed callback, or at <paramref name="StatusUrl"/>.</summary>
    public sealed record Accepted(Uri? StatusUrl, Uri? LogUrl) : ProviderResult;
}

/// <summary>Carries out deployments for environments configured with its <see cref="Kind"/>.</summary>
public interface IDeploymentProvider
{
    string Kind { get; }

    /// <summary>
    /// True when running the same deployment id twice is harmless (the target recognises the id). A run that was
    /// interrupted is then run again; otherwise it is reported <c>error</c> and left for a person to redeploy.
    /// </summary>
    bool Idempotent { get; }

    /// <summary>The log URL known before the work starts (reported with <c>in_progress</c>), if any.</summary>
    Uri? LogUrlFor(DeploymentJob job);

    /// <summary>Does the work. Throws <see cref="DeploymentProviderException"/> when it could not be done (status <c>error</c>).</summary>
    Task<ProviderResult> DeployAsync(DeploymentJob job, CancellationToken cancellationToken);
}

/// <summary>A provider whose work may finish after it returns (<see cref="ProviderResult.Accepted"/> with a status URL).</summary>
public interface IPolledProvider
{
    /// <summary>How the work went, asked at its status URL; null while it is still going (or cannot be asked now).</summary>
    Task<ProviderResult?> PollAsync(DeploymentJob job, Uri statusUrl, CancellationToken cancellationToken);
}

/// <summary>The provider could not do its work (unreachable, timed out): the deployment's status becomes <c>error</c>.</summary>
public sealed class DeploymentProviderException : Exception
{
    public DeploymentProviderException()
    {
    }

    public DeploymentProviderException(string message)
        : base(message)
    {
    }

    public DeploymentProviderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The guide's pretend deployment: waits <c>DelaySeconds</c>, then succeeds.</summary>
public sealed class SimulatedProvider(TimeProvider clock) : IDeploymentProvider
{
    public string Kind => ProviderKinds.Simulated;

    /// <summary>Pretends to be a real target, which cannot be assumed to recognise a repeated deployment.</summary>
    public bool Idempotent => false;

    public Uri? LogUrlFor(DeploymentJob job) => null;

    public async Task<ProviderResult> DeployAsync(DeploymentJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Noop)
        {
            return new ProviderResult.Succeeded(null, null,
                $"Noop: would deploy {job.Sha[..Math.Min(7, job.Sha.Length)]} to {job.Environment}; nothing was changed");
        }

        await System.Threading.Tasks.Task.Delay(TimeSpan.FromSeconds(job.Settings.DelaySeconds), clock, cancellationToken);
        return new ProviderResult.Succeeded(job.Settings.EnvironmentUrl, null, "Simulated deployment finished");
    }
}

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

    /// <summary>The hook's contract (README): a repeated <c>deployment_id</c> is the same deployment, not a new one.</summary>
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
                    job.Noop ? "Deploy hook accepted the dry run (noop)" : "Deploy hook accepted the deployment")
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
            ["noop"] = job.Noop,
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

/// <summary>
/// Dispatches the environment's workflow (<c>workflow_dispatch</c>) with inputs <c>deployment_id</c>, <c>environment</c>
/// and <c>ref</c> (and <c>noop: "true"</c> for a dry run); the workflow posts the final deployment status itself.
/// </summary>
public sealed class GitHubActionsProvider : IDeploymentProvider
{
    public string Kind => ProviderKinds.GitHubActions;

    /// <summary>Each dispatch starts another workflow run.</summary>
    public bool Idempotent => false;

    public Uri? LogUrlFor(DeploymentJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var web = job.GitHub.Connection.BaseAddress;
        var site = web.Host == "api.github.com" ? new Uri("https://github.com/") : new Uri(web, "/");
        return new Uri(site, $"{job.Owner}/{job.Repository}/actions/workflows/{Uri.EscapeDataString(job.Settings.Workflow!)}");
    }

    public async Task<ProviderResult> DeployAsync(DeploymentJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var inputs = new Dictionary<string, object>
        {
            ["deployment_id"] = job.DeploymentId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["environment"] = job.Environment,
            ["ref"] = job.Sha,
        };
        if (job.Noop)
        {
            // Only for a dry run: a workflow that declares no 'noop' input still takes every real deployment.
            inputs["noop"] = "true";
        }

        var dispatch = new CreateWorkflowDispatch(job.Settings.WorkflowRef ?? job.Branch) { Inputs = inputs };
        await job.GitHub.Actions.Workflows.CreateDispatch(job.Owner, job.Repository, job.Settings.Workflow, dispatch);
        return new ProviderResult.HandedOff($"Workflow {job.Settings.Workflow} dispatched; it reports the result");
    }
}
