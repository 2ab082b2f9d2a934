using System.Globalization;
using System.Text.RegularExpressions;
using DeployFunctions.GitHub;
using Microsoft.Extensions.Options;
using Octokit;

namespace DeployFunctions.Providers;

/// <summary>
/// Dispatches the environment's workflow (<c>workflow_dispatch</c>, from the repository's default branch or the operator's
/// <c>WorkflowRef</c>) with inputs <c>deployment_id</c>, <c>environment</c> and <c>ref</c> (and <c>noop: "true"</c> for a dry
/// run, <c>params</c> when the command gave parameters), asking GitHub for the run it starts (<c>return_run_details</c>): the run's page becomes the deployment's log, and
/// the run's end settles the deployment. A dispatch whose answer was lost is never repeated blindly: the workflow's runs
/// are searched for it first (its <c>run-name</c> carries the deployment id).
/// </summary>
public sealed partial class GitHubActionsProvider(TimeProvider clock, IOptions<GitHubOptions> gitHub, IGitHubClientFactory clients)
    : IDeploymentProvider, IRecoverableProvider
{
    /// <summary>
    /// How long after a dispatch without an answer a run it started would be listed: GitHub creates the run before it answers,
    /// so once the request's own timeout (<c>GitHub__RequestTimeoutSeconds</c>) and a margin have passed, a run not listed
    /// was never started.
    /// </summary>
    private readonly TimeSpan listingGrace = TimeSpan.FromSeconds(gitHub.Value.RequestTimeoutSeconds + 10);

    public string Kind => ProviderKinds.GitHubActions;

    /// <summary>Each dispatch starts another workflow run: a run whose outcome is unknown is recovered, never repeated blindly.</summary>
    public bool Idempotent => false;

    public Uri? LogUrlFor(DeploymentJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new Uri(Site(job), $"{job.Owner}/{job.Repository}/actions/workflows/{Uri.EscapeDataString(job.Settings.Workflow!)}");
    }

    public async Task<ProviderResult> DeployAsync(DeploymentJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var inputs = new Dictionary<string, object>
        {
            ["deployment_id"] = job.DeploymentId.ToString(CultureInfo.InvariantCulture),
            ["environment"] = job.Environment,
            ["ref"] = job.Sha,
        };
        if (job.Noop)
        {
            // Only for a dry run: a workflow that declares no 'noop' input still takes every real deployment.
            inputs["noop"] = "true";
        }

        if (job.Action == DeploymentJob.Destroy)
        {
            // Only for a preview's teardown: a workflow that declares no 'action' input still takes every deployment.
            inputs["action"] = DeploymentJob.Destroy;
        }

        if (job.Params is { } parameters)
        {
            // Only when given, like 'noop': a workflow that declares no 'params' input takes every deployment without them.
            inputs["params"] = parameters;
        }

        var answer = await new ApiConnection(job.GitHub.Connection).Post<DispatchAnswer>(Workflow(job, "dispatches"), new Dictionary<string, object>
        {
            ["ref"] = DispatchRef(job),
            ["inputs"] = inputs,
            ["return_run_details"] = true,
        }, cancellationToken);
        if (answer is { WorkflowRunId: > 0 } run)
        {
            return Handed(job, run.WorkflowRunId, run.HtmlUrl);
        }

        // 204, no run details (a GitHub that predates return_run_details): the run exists by now; find it by its title, branch
        // and actor. A run not found cannot be told from anyone else's, so nothing it reports is believed.
        return await RecoverAsync(job, clock.GetUtcNow(), cancellationToken) is Recovery.Found found
            ? found.Result
            : new ProviderResult.HandedOff($"Workflow {job.Settings.Workflow} dispatched; its run could not be identified (give it the run-name docs/providers.md shows)");
    }

    /// <summary>
    /// The run a dispatch started, found among the workflow's dispatched runs since the attempt by its title
    /// (<c>run-name: deployfunctions deployment ${{ inputs.deployment_id }}</c>), its branch (the dispatch's ref) and its actor
    /// (the app itself: anyone with write access can dispatch the same workflow with the same input). None listed once the
    /// dispatch's own timeout and a margin have passed: nothing started. Runs of the app whose titles carry no deployment id:
    /// the workflow has no such <c>run-name</c>, and nothing can tell.
    /// </summary>
    public async Task<Recovery> RecoverAsync(DeploymentJob job, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var since = (startedAt - TimeSpan.FromMinutes(1)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var branch = DispatchRef(job);
        var listed = await new ApiConnection(job.GitHub.Connection).Get<RunsAnswer>(Workflow(job, "runs"), new Dictionary<string, string>
        {
            ["event"] = "workflow_dispatch",
            ["branch"] = branch,
            ["created"] = ">=" + since,
            ["per_page"] = "100",
        });
        var me = await clients.IdentityAsync(cancellationToken);
        var runs = (listed?.WorkflowRuns ?? [])
            .Where(r => string.Equals(r.HeadBranch, branch, StringComparison.Ordinal) && string.Equals(r.Actor?.Login, me, StringComparison.OrdinalIgnoreCase))
            .ToList();
        var mine = runs.Where(r => Title(r.DisplayTitle) == job.DeploymentId).OrderBy(r => r.Id).FirstOrDefault();
        if (mine is not null)
        {
            return new Recovery.Found(Handed(job, mine.Id, mine.HtmlUrl));
        }

        if (runs.Any(r => Title(r.DisplayTitle) is null))
        {
            return new Recovery.Unknown($"the dispatch of {job.Settings.Workflow} got no answer, and its runs cannot be told apart (give the workflow " +
                                        "'run-name: deployfunctions deployment ${{ inputs.deployment_id }}'); redeploy to try again");
        }

        var waited = clock.GetUtcNow() - startedAt;
        return waited < listingGrace
            ? new Recovery.Wait(TimeSpan.FromSeconds(Math.Clamp((listingGrace - waited).TotalSeconds, 1, 5)),
                $"looking for the run of {job.Settings.Workflow} a dispatch without an answer may have started")
            : new Recovery.NotStarted();
    }

    /// <summary>The branch the workflow is dispatched from: the operator's <c>WorkflowRef</c>, else the default branch.</summary>
    private static string DispatchRef(DeploymentJob job) => job.Settings.WorkflowRef ?? job.DefaultBranch;

    private static ProviderResult.HandedOff Handed(DeploymentJob job, long runId, string? htmlUrl) =>
        new($"Workflow {job.Settings.Workflow} run {runId} carries it out", runId,
            Uri.TryCreate(htmlUrl, UriKind.Absolute, out var url) ? url : new Uri(Site(job), $"{job.Owner}/{job.Repository}/actions/runs/{runId}"));

    /// <summary>The deployment id in a run's title, or null when the title carries none.</summary>
    private static long? Title(string? title) =>
        title is not null && RunName().Match(title) is { Success: true } match &&
        long.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : null;

    [GeneratedRegex(@"\bdeployment (\d+)\b", RegexOptions.CultureInvariant)]
    private static partial Regex RunName();

    private static Uri Workflow(DeploymentJob job, string what) => new(
        $"repos/{Uri.EscapeDataString(job.Owner)}/{Uri.EscapeDataString(job.Repository)}/actions/workflows/{Uri.EscapeDataString(job.Settings.Workflow!)}/{what}",
        UriKind.Relative);

    private static Uri Site(DeploymentJob job)
    {
        var web = job.GitHub.Connection.BaseAddress;
        return web.Host == "api.github.com" ? new Uri("https://github.com/") : new Uri(web, "/");
    }

    /// <summary>GitHub's answer to a dispatch with <c>return_run_details</c> (<c>workflow-dispatch-response</c>).</summary>
    private sealed class DispatchAnswer
    {
        public long WorkflowRunId { get; set; }
        public string? HtmlUrl { get; set; }
    }

    private sealed class RunsAnswer
    {
        public List<ListedRun> WorkflowRuns { get; set; } = [];
    }

    private sealed class ListedRun
    {
        public long Id { get; set; }
        public string? DisplayTitle { get; set; }
        public string? HtmlUrl { get; set; }
        public string? HeadBranch { get; set; }
        public ListedActor? Actor { get; set; }
    }

    private sealed class ListedActor
    {
        public string? Login { get; set; }
    }
}
