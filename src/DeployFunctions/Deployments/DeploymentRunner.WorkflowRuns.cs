using System.Text.Json.Serialization;
using DeployFunctions.Ledger;
using DeployFunctions.Providers;
using DeployFunctions.Queues;
using DeployFunctions.Storage;

namespace DeployFunctions.Deployments;

/// <summary>The end of a workflow run the runner dispatched, which settles its deployment.</summary>
public sealed partial class DeploymentRunner
{
    /// <summary>
    /// A <c>workflow_run</c> <c>completed</c> event: when the app dispatched that run (the ledger's index knows it), its
    /// conclusion is the deployment's result, posted as its final status. A workflow that crashed before its last step still
    /// settles its deployment; a status anyone else posted settles nothing.
    /// </summary>
    private async Task<HandlerOutcome> SettleRunAsync(QueuedDelivery delivery, CancellationToken cancellationToken)
    {
        var completed = delivery.Read<RunCompleted>();
        var run = completed.WorkflowRun ?? throw new InvalidDataException("The payload has no workflow_run.");
        var repository = completed.Repository?.FullName ?? throw new InvalidDataException("The payload has no repository.");
        if (await ledger.FindRunAsync(repository, run.Id, cancellationToken) is not { } entry)
        {
            return new HandlerOutcome.Skipped($"workflow run {run.Id} of {repository} was not dispatched by DeployFunctions");
        }

        var github = await clients.CreateAsync(delivery.Envelope.InstallationId, repository, cancellationToken);
        var settings = (environments.Value.Find(entry.Environment, entry.Target) ?? new EnvironmentOptions()).For(entry.EnvironmentUrl, entry.Workflow);
        if (DeploymentResults.FromRun(entry, run.Id, run.Conclusion, run.HtmlUrl, settings.EnvironmentUrl) is { } settled)
        {
            try
            {
                entry = await ledger.UpdateAsync(settled, cancellationToken);
            }
            catch (LedgerConflictException conflict)
            {
                return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds), conflict.Message, IsFault: false);
            }
        }

        if (!entry.Reported)
        {
            entry = await DeploymentResults.PostAsync(github, ledger, entry, cancellationToken);
        }

        return new HandlerOutcome.Completed($"deployment {entry.DeploymentId} of {repository} to {entry.Environment}: {Describe(entry)} (workflow run {run.Id})");
    }

    /// <summary>The event a dispatched workflow run's end arrives as (queued with the deployments).</summary>
    public const string WorkflowRunEvent = "workflow_run";

    /// <summary>The fields of a <c>workflow_run</c> <c>completed</c> payload the runner reads.</summary>
    private sealed class RunCompleted
    {
        [JsonPropertyName("workflow_run")]
        public CompletedRun? WorkflowRun { get; set; }

        [JsonPropertyName("repository")]
        public RunRepository? Repository { get; set; }
    }

    private sealed class CompletedRun
    {
        [JsonPropertyName("id")]
        public long Id { get; set; }

        [JsonPropertyName("conclusion")]
        public string? Conclusion { get; set; }

        [JsonPropertyName("html_url")]
        public string? HtmlUrl { get; set; }
    }

    private sealed class RunRepository
    {
        [JsonPropertyName("full_name")]
        public string? FullName { get; set; }
    }
}
