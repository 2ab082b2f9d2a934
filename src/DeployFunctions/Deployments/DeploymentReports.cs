using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DeployFunctions.GitHub;
using DeployFunctions.Ledger;
using DeployFunctions.Providers;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Deployments;

/// <summary>The answer to a hook's report: HTTP status and a JSON body safe to show the hook.</summary>
public sealed record ReportAnswer(int Status, string Outcome, string Reason);

/// <summary>
/// <c>POST /api/deployments/report</c>: an asynchronous deploy hook reports how a deployment it accepted (202) went. The
/// body is <c>{"deployment_id", "repository", "environment", "state": "success" | "failure" | "error", "description",
/// "environment_url", "log_url"}</c>, signed like the hook's own request: <c>X-DeployFunctions-Signature-256:
/// sha256=&lt;hex HMAC-SHA256 of the body with Environments__&lt;name&gt;__Secret&gt;</c>. A forged report changes nothing
/// (401); a report is applied once (a repeat is 200 "already applied"); a late one, after the deployment got another final
/// result (the watchdog's error), is 409.
/// </summary>
public sealed class DeploymentReports(
    IDeploymentLedger ledger, IGitHubClientFactory clients, IOptions<EnvironmentsOptions> environments, IOptions<DeployOptions> deploy)
{
    public const int MaxBytes = 64 * 1024;

    public async Task<ReportAnswer> ApplyAsync(ReadOnlyMemory<byte> body, string? signature, CancellationToken cancellationToken)
    {
        if (body.Length > MaxBytes)
        {
            return new(413, "rejected", $"a report is at most {MaxBytes} bytes");
        }

        string? repository, environment;
        long deploymentId;
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            repository = root.TryGetProperty("repository", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            environment = root.TryGetProperty("environment", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
            deploymentId = root.TryGetProperty("deployment_id", out var d) && d.TryGetInt64(out var id) ? id : 0;
        }
        catch (JsonException)
        {
            return new(400, "rejected", "the body is not JSON");
        }

        if (repository is null || environment is null || deploymentId <= 0 || !repository.Contains('/', StringComparison.Ordinal))
        {
            return new(400, "rejected", "deployment_id, repository (owner/name) and environment are required");
        }

        // Authenticate before anything is looked up: the environment's own hook secret. A repository's own environment has its
        // target's secret, which only the ledger (written by the app alone) knows: that one row is read first.
        LedgerEntry? known = null;
        if (environments.Value.Find(environment) is null && environments.Value.Targets.Count > 0 && environment.Length <= 100 && repository.Length <= 200)
        {
            known = await ledger.FindDeploymentAsync(repository, environment, deploymentId, cancellationToken);
        }

        var settings = environments.Value.Find(environment, known?.Target) ?? new EnvironmentOptions();
        if ((settings.Provider ?? deploy.Value.DefaultProvider) != ProviderKinds.Http || string.IsNullOrEmpty(settings.Secret) ||
            signature is null || !Matches(signature, body.Span, settings.Secret))
        {
            return new(401, "rejected", $"X-DeployFunctions-Signature-256 must be the HMAC-SHA256 of the body with the {environment} hook's secret");
        }

        var reported = HttpDeployHookProvider.ReportedResult(Encoding.UTF8.GetString(body.Span));
        if (reported is null)
        {
            return new(400, "rejected", "state must be success, failure or error");
        }

        if (await ledger.FindDeploymentAsync(repository, environment, deploymentId, cancellationToken) is not { } entry)
        {
            return new(404, "rejected", $"deployment {deploymentId} of {repository} to {environment} is not one this app runs");
        }

        var github = await clients.CreateAsync(null, repository, cancellationToken);
        if (entry.HasResult)
        {
            if (entry.State != StateOf(reported))
            {
                return new(409, "late", $"deployment {deploymentId} has a final result already ({entry.State.ToString().ToLowerInvariant()}: {entry.ResultDescription})");
            }

            if (!entry.Reported)
            {
                // A crash after the ledger write and before the status: the repeated report posts the status now.
                await DeploymentResults.PostAsync(github, ledger, entry, cancellationToken);
            }

            return new(200, "already applied", $"deployment {deploymentId} is {entry.State.ToString().ToLowerInvariant()}");
        }

        if (DeploymentRunner.Apply(entry, reported) is not { } updated)
        {
            return new(409, "not started", $"deployment {deploymentId} has not been handed to the hook yet");
        }

        try
        {
            updated = await ledger.UpdateAsync(updated, cancellationToken);
        }
        catch (LedgerConflictException)
        {
            return new(409, "retry", $"deployment {deploymentId} changed while the report was applied; send it again");
        }

        await DeploymentResults.PostAsync(github, ledger, updated, cancellationToken);
        return new(200, "applied", $"deployment {deploymentId} is {updated.State.ToString().ToLowerInvariant()}");
    }

    private static LedgerState StateOf(ProviderResult result) => result switch
    {
        ProviderResult.Succeeded => LedgerState.Succeeded,
        ProviderResult.Failed => LedgerState.Failed,
        _ => LedgerState.Errored,
    };

    private static bool Matches(string signature, ReadOnlySpan<byte> body, string secret)
    {
        var expected = Encoding.ASCII.GetBytes(HttpDeployHookProvider.Sign(body, secret));
        var given = Encoding.ASCII.GetBytes(signature.Trim());
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
