using Octokit;

namespace DeployFunctions.Providers;

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
