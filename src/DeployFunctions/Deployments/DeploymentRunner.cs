using System.Globalization;
using System.Text.Json;
using DeployFunctions.GitHub;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;
using Octokit;
using Octokit.Webhooks.Events.Deployment;

namespace DeployFunctions.Deployments;

/// <summary>
/// Carries out a created deployment: only one at a time per repository and environment (a lease lock), statuses
/// <c>in_progress</c> then <c>success</c> / <c>failure</c> / <c>error</c>, and never twice: a deployment that already
/// has a final status is left alone, and a provider's result is recorded under the lock before it is reported, so a
/// retry after a failed report reports it again instead of deploying again.
/// </summary>
public sealed class DeploymentRunner(
    IGitHubClientFactory clients,
    ILeaseLocks locks,
    IEnumerable<IDeploymentProvider> providers,
    IOptions<DeployOptions> deployOptions,
    IOptions<EnvironmentsOptions> environments) : IDeliveryHandler
{
    private static readonly string[] FinalStates = ["success", "failure", "error", "inactive"];
    private readonly DeployOptions options = deployOptions.Value;
    private readonly Dictionary<string, IDeploymentProvider> providers = providers.ToDictionary(p => p.Kind, StringComparer.Ordinal);

    public bool CallsGitHub => true;

    public DeliveryQueueKind Queue => DeliveryQueueKind.Deployments;

    public async Task<HandlerOutcome> HandleAsync(QueuedDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var created = delivery.Read<DeploymentCreatedEvent>();
        var deployment = created.Deployment ?? throw new InvalidDataException("The payload has no deployment.");
        var repository = created.Repository ?? throw new InvalidDataException("The payload has no repository.");
        var environment = deployment.Environment;
        var settings = environments.Value.Find(environment);
        var ours = DeploymentMarker.IsOurs(deployment.Payload);
        if (!ours && settings?.Provider is null)
        {
            return new HandlerOutcome.Skipped(
                $"deployment {deployment.Id} to {environment} was not created by DeployFunctions and " +
                $"{environment} has no provider (Environments__{environment}__Provider)");
        }

        var provider = providers[settings?.Provider ?? options.DefaultProvider];
        var what = $"deployment {deployment.Id} of {repository.FullName}@{Short(deployment.Sha)} to {environment}";

        await using var held = await locks.TryAcquireAsync($"environments/{repository.FullName}/{environment}", cancellationToken);
        if (held is null)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                $"{what} waits: another deployment to {environment} is running", IsFault: false);
        }

        var github = await clients.CreateAsync(delivery.Envelope.InstallationId, cancellationToken);
        var owner = repository.Owner.Login;
        var statuses = await github.Repository.Deployment.Status.GetAll(owner, repository.Name, deployment.Id);
        var final = statuses.FirstOrDefault(s => FinalStates.Contains(s.State.StringValue));
        if (final is not null)
        {
            return new HandlerOutcome.Completed($"{what} has the final status {final.State.StringValue} already; nothing to do");
        }

        var job = new DeploymentJob
        {
            Owner = owner,
            Repository = repository.Name,
            DeploymentId = deployment.Id,
            Sha = deployment.Sha,
            Ref = deployment.Ref,
            Environment = environment,
            Task = deployment.Task,
            PayloadJson = deployment.Payload?.GetRawText(),
            DeliveryId = delivery.Envelope.DeliveryId,
            Branch = BaseBranch(deployment.Payload) ?? repository.DefaultBranch ?? deployment.Ref,
            Settings = settings ?? new EnvironmentOptions(),
            GitHub = github,
        };

        var result = RecordedResult(held.Record, deployment.Id);
        if (result is null)
        {
            await PostAsync(job, new NewDeploymentStatus(DeploymentState.InProgress)
            {
                LogUrl = provider.LogUrlFor(job)?.ToString(),
                Description = DeploymentMarker.Describe($"Deploying with the {provider.Kind} provider"),
            });

            try
            {
                result = await provider.DeployAsync(job, cancellationToken);
            }
            catch (DeploymentProviderException exception)
            {
                result = new ProviderResult.Errored(exception.Message);
            }

            await held.SaveAsync(Record(deployment.Id, result), cancellationToken);
        }

        switch (result)
        {
            case ProviderResult.Succeeded success:
                await PostAsync(job, new NewDeploymentStatus(DeploymentState.Success)
                {
                    EnvironmentUrl = success.EnvironmentUrl?.ToString(),
                    LogUrl = success.LogUrl?.ToString(),
                    Description = DeploymentMarker.Describe(success.Description),
                });
                return new HandlerOutcome.Completed($"{what} succeeded");

            case ProviderResult.Failed failure:
                await PostAsync(job, new NewDeploymentStatus(DeploymentState.Failure)
                {
                    LogUrl = failure.LogUrl?.ToString(),
                    Description = DeploymentMarker.Describe(failure.Description),
                });
                return new HandlerOutcome.Completed($"{what} failed: {failure.Description}");

            case ProviderResult.Errored errored:
                await PostAsync(job, new NewDeploymentStatus(DeploymentState.Error)
                {
                    Description = DeploymentMarker.Describe(errored.Description),
                });
                return new HandlerOutcome.Completed($"{what} ended in error: {errored.Description}");

            case ProviderResult.HandedOff handedOff:
                return new HandlerOutcome.Completed($"{what}: {handedOff.Description}");

            default:
                throw new InvalidOperationException("Unknown provider result.");
        }
    }

    /// <summary>A deployment whose delivery is given up on is left <c>error</c>, not hanging in <c>in_progress</c>.</summary>
    public async Task OnGiveUpAsync(QueuedDelivery delivery, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        DeploymentCreatedEvent? created;
        try
        {
            created = JsonSerializer.Deserialize<DeploymentCreatedEvent>(delivery.Payload.Span);
        }
        catch (JsonException)
        {
            return;
        }

        if (created?.Deployment is not { } deployment || created.Repository is not { } repository)
        {
            return;
        }

        try
        {
            var github = await clients.CreateAsync(delivery.Envelope.InstallationId, cancellationToken);
            await github.Repository.Deployment.Status.Create(repository.Owner.Login, repository.Name, deployment.Id,
                new NewDeploymentStatus(DeploymentState.Error)
                {
                    Description = DeploymentMarker.Describe($"DeployFunctions gave up: {reason}"),
                });
        }
        catch (Exception exception) when (GitHubFailure.Classify(exception, DateTimeOffset.UtcNow) is not null)
        {
            // Best effort: the poison queue and the error log still say what happened.
        }
    }

    private static Task<DeploymentStatus> PostAsync(DeploymentJob job, NewDeploymentStatus status) =>
        job.GitHub.Repository.Deployment.Status.Create(job.Owner, job.Repository, job.DeploymentId, status);

    /// <summary>What is kept under the environment's lock (blob metadata: ASCII, so texts are escaped).</summary>
    private static Dictionary<string, string> Record(long deploymentId, ProviderResult result)
    {
        var (state, description, environmentUrl, logUrl) = result switch
        {
            ProviderResult.Succeeded s => ("success", s.Description, s.EnvironmentUrl, s.LogUrl),
            ProviderResult.Failed f => ("failure", f.Description, null, f.LogUrl),
            ProviderResult.Errored e => ("error", e.Description, null, null),
            ProviderResult.HandedOff h => ("handed-off", h.Description, (Uri?)null, (Uri?)null),
            _ => throw new InvalidOperationException("Unknown provider result."),
        };
        var record = new Dictionary<string, string>
        {
            ["deployment_id"] = deploymentId.ToString(CultureInfo.InvariantCulture),
            ["state"] = state,
            ["description"] = Uri.EscapeDataString(description.Length > 300 ? description[..300] : description),
        };
        AddUrl(record, "environment_url", environmentUrl);
        AddUrl(record, "log_url", logUrl);
        return record;
    }

    /// <summary>The result an earlier attempt recorded for this deployment, if it got that far.</summary>
    private static ProviderResult? RecordedResult(IReadOnlyDictionary<string, string> record, long deploymentId)
    {
        if (!record.TryGetValue("deployment_id", out var id) || id != deploymentId.ToString(CultureInfo.InvariantCulture) ||
            !record.TryGetValue("state", out var state))
        {
            return null;
        }

        var description = Uri.UnescapeDataString(record.GetValueOrDefault("description") ?? "");
        var logUrl = UrlOf(record, "log_url");
        return state switch
        {
            "success" => new ProviderResult.Succeeded(UrlOf(record, "environment_url"), logUrl, description),
            "failure" => new ProviderResult.Failed(logUrl, description),
            "error" => new ProviderResult.Errored(description),
            _ => new ProviderResult.HandedOff(description),
        };
    }

    private static void AddUrl(Dictionary<string, string> record, string key, Uri? url)
    {
        if (url is not null)
        {
            record[key] = Uri.EscapeDataString(url.ToString());
        }
    }

    private static Uri? UrlOf(IReadOnlyDictionary<string, string> record, string key) =>
        record.TryGetValue(key, out var value) ? new Uri(Uri.UnescapeDataString(value)) : null;

    private static string? BaseBranch(JsonElement? payload) =>
        payload is { ValueKind: JsonValueKind.Object } element &&
        element.TryGetProperty("base_branch", out var branch) && branch.ValueKind == JsonValueKind.String
            ? branch.GetString()
            : null;

    private static string Short(string sha) => sha[..Math.Min(7, sha.Length)];
}
