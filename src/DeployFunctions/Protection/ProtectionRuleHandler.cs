using System.Net;
using DeployFunctions.Commands;
using DeployFunctions.Config;
using DeployFunctions.GitHub;
using DeployFunctions.Ledger;
using DeployFunctions.Policy;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;
using Octokit;
using Octokit.Webhooks.Events.DeploymentProtectionRule;

namespace DeployFunctions.Protection;

/// <summary>Custom deployment protection rules (GitHub App). Section <c>Protection</c>.</summary>
public sealed class ProtectionOptions
{
    public const string SectionName = "Protection";

    /// <summary>
    /// How long a request may wait for a lock to be released or a freeze to end before it is rejected; GitHub waits up to
    /// 30 days for a rule's answer. App setting <c>Protection__MaxWaitMinutes</c>.
    /// </summary>
    public double MaxWaitMinutes { get; set; } = 1440;

    /// <summary>How often a waiting request is evaluated again. App setting <c>Protection__PollSeconds</c>.</summary>
    public double PollSeconds { get; set; } = 30;
}

/// <summary>
/// A <c>deployment_protection_rule</c> <c>requested</c> event: a GitHub Actions job with <c>environment:</c> asks this app
/// (a custom deployment protection rule on that environment) whether it may deploy. The same policy as every other path
/// decides: the repository allowed, its <c>.github/deployfunctions.yml</c> (at the default branch) usable, no lock held by
/// someone else, no freeze, the commit's statuses not failing. The answer goes to the event's
/// <c>deployment_callback_url</c> (<c>approved</c> or <c>rejected</c>, with a comment saying why). A lock or a freeze makes
/// it wait and approve later, within <c>Protection__MaxWaitMinutes</c>.
/// </summary>
public sealed class ProtectionRuleHandler(
    DeployPolicy policy,
    IEnvironmentLocks environmentLocks,
    IDeploymentLedger ledger,
    IGitHubClientFactory clients,
    IOptions<ProtectionOptions> protection,
    IOptions<GitHubOptions> gitHub,
    TimeProvider clock,
    ConfigGate? configGate = null) : IDeliveryHandler
{
    public bool CallsGitHub => true;

    public DeliveryQueueKind Queue => DeliveryQueueKind.ProtectionRules;

    public async Task<HandlerOutcome> HandleAsync(QueuedDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var requested = delivery.Read<DeploymentProtectionRuleRequestedEvent>();
        var repository = requested.Repository ?? throw new InvalidDataException("The payload has no repository.");
        var environment = requested.Environment ?? throw new InvalidDataException("The payload has no environment.");
        var callback = requested.DeploymentCallbackUrl ?? throw new InvalidDataException("The payload has no deployment_callback_url.");
        var sha = requested.Deployment?.Sha;
        var requester = requested.Deployment?.Creator?.Login ?? requested.Sender?.Login ?? "unknown";
        var what = $"protection rule for {repository.FullName} {environment} ({requested.Event}, {sha?[..Math.Min(7, sha.Length)]} by @{requester})";

        // The callback is where the app's credentials go: only ever GitHub's own API, for this repository's runs.
        var expected = new Uri(gitHub.Value.ApiBaseUrl, $"repos/{repository.FullName}/actions/runs/");
        if (!Uri.TryCreate(callback, UriKind.Absolute, out var callbackUri) ||
            !callbackUri.AbsoluteUri.StartsWith(expected.AbsoluteUri, StringComparison.OrdinalIgnoreCase) ||
            !callbackUri.AbsolutePath.EndsWith("/deployment_protection_rule", StringComparison.Ordinal))
        {
            return new HandlerOutcome.Failed($"{what}: the callback URL is not this repository's protection rule endpoint on {gitHub.Value.ApiBaseUrl}");
        }

        var github = await clients.CreateAsync(delivery.Envelope.InstallationId, repository.FullName, cancellationToken);

        // A run the app dispatched (github-actions provider) is judged by the command or merge that caused it: its actor is
        // the app itself, so a lock holder's own deploy would otherwise wait behind their own lock, and an admin's --force
        // behind the freeze it overrode.
        var forced = false;
        string? refusal = null;
        LedgerEntry? dispatched = null;
        if (RunOf(callbackUri) is { } runId)
        {
            dispatched = await ledger.FindRunAsync(repository.FullName, runId, cancellationToken);
            if (dispatched is not null)
            {
                (requester, forced) = (dispatched.RequestedBy, dispatched.Forced || dispatched.Noop);
                what += $" for deployment {dispatched.DeploymentId} by @{requester}";

                // A run keeps its id when someone re-runs it: weeks later, that would deploy an old commit as its original
                // requester (with their --force). Only the run's first pass belongs to its deployment.
                if (dispatched.IsFinal)
                {
                    refusal = $"run {runId} belongs to deployment {dispatched.DeploymentId}, which already ended ({dispatched.State}); " +
                              "re-running it is not a deployment: ask for a new one";
                }
            }
            else if (string.Equals(requester, await clients.IdentityAsync(cancellationToken), StringComparison.OrdinalIgnoreCase) &&
                     clock.GetUtcNow() < delivery.Envelope.ReceivedAt + DispatchRecordWait)
            {
                return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(protection.Value.PollSeconds),
                    $"{what} waits: the app dispatched run {runId}; its deployment is being recorded", IsFault: false);
            }
        }

        var defaultBranch = repository.DefaultBranch ?? "main";
        var verdict = refusal is not null
            ? (Reason: (string?)refusal, Wait: false, Until: (DateTimeOffset?)null)
            : await EvaluateAsync(github, repository.FullName, defaultBranch, environment, sha,
                dispatched is null ? Branch(requested.Deployment?.Ref) ?? "" : null, requester, forced, cancellationToken);
        var deadline = delivery.Envelope.ReceivedAt + TimeSpan.FromMinutes(protection.Value.MaxWaitMinutes);
        if (verdict.Wait && clock.GetUtcNow() < deadline)
        {
            var poll = TimeSpan.FromSeconds(protection.Value.PollSeconds);
            return new HandlerOutcome.RetryLater(verdict.Until is { } until && until - clock.GetUtcNow() < poll ? until - clock.GetUtcNow() + TimeSpan.FromSeconds(1) : poll,
                $"{what} waits: {verdict.Reason}", IsFault: false);
        }

        var approved = verdict.Reason is null;
        var comment = approved
            ? $"DeployFunctions approved {environment}: no lock, no freeze, the configuration allows it and the commit's checks are not failing."
            : $"DeployFunctions rejected {environment}: {verdict.Reason}{(verdict.Wait ? $", still after {protection.Value.MaxWaitMinutes} minutes" : "")}.";
        try
        {
            await new ApiConnection(github.Connection).Connection.Post<object>(callbackUri, new Dictionary<string, string>
            {
                ["environment_name"] = environment,
                ["state"] = approved ? "approved" : "rejected",
                ["comment"] = comment.Length <= 1000 ? comment : comment[..999] + "…",
            }, "application/vnd.github+json", "application/json", cancellationToken: cancellationToken);
        }
        catch (ApiException answered) when (answered.StatusCode == HttpStatusCode.UnprocessableEntity)
        {
            return new HandlerOutcome.Completed($"{what}: GitHub has its answer already ({answered.ApiError?.Message ?? answered.Message})");
        }

        return approved ? new HandlerOutcome.Completed($"{what}: approved") : new HandlerOutcome.Completed($"{what}: rejected: {verdict.Reason}");
    }

    public Task OnGiveUpAsync(QueuedDelivery delivery, string reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>How long a request for a run the app dispatched waits for the dispatch's answer to be recorded.</summary>
    public static readonly TimeSpan DispatchRecordWait = TimeSpan.FromMinutes(2);

    /// <summary>The run id in <c>.../actions/runs/{run_id}/deployment_protection_rule</c>.</summary>
    private static long? RunOf(Uri callback)
    {
        var segments = callback.AbsolutePath.TrimEnd('/').Split('/');
        return segments.Length >= 2 && long.TryParse(segments[^2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? id
            : null;
    }

    /// <summary>The branch a deployment's ref names (<c>main</c> or <c>refs/heads/main</c>); null for a tag or another ref.</summary>
    private static string? Branch(string? reference) =>
        reference is null || (reference.StartsWith("refs/", StringComparison.Ordinal) && !reference.StartsWith("refs/heads/", StringComparison.Ordinal))
            ? null
            : reference.StartsWith("refs/heads/", StringComparison.Ordinal) ? reference["refs/heads/".Length..] : reference;

    /// <summary>
    /// Null reason: approve. Wait: a lock or freeze that may end, or statuses still pending; else reject. A job the app did not
    /// dispatch (<paramref name="jobBranch"/> set) runs its branch's code in the environment: only a branch whose merges deploy
    /// there may, as a merge would.
    /// </summary>
    private async Task<(string? Reason, bool Wait, DateTimeOffset? Until)> EvaluateAsync(
        IGitHubClient github, string repository, string defaultBranch, string environment, string? sha, string? jobBranch, string requester, bool forced,
        CancellationToken cancellationToken)
    {
        if (!policy.AllowsRepository(repository))
        {
            return ($"repository {repository} is not in Deploy__Repositories", false, null);
        }

        RepositoryConfig? config = null;
        if (configGate is not null)
        {
            switch (await configGate.CheckAsync(github, repository, defaultBranch, defaultBranch, cancellationToken))
            {
                case ConfigCheck.Refused refused:
                    return (refused.Summary, false, null);
                case ConfigCheck.Usable usable:
                    config = usable.Config;
                    break;
            }
        }

        if (jobBranch is not null && !policy.DeploysFrom(jobBranch, defaultBranch, environment, config, repository))
        {
            return ($"the job runs `{(jobBranch.Length > 0 ? jobBranch : "a ref that is not a branch")}`, and merges into it do not deploy to {environment} " +
                    $"(Deploy__BranchEnvironments, Deploy__DefaultEnvironment, branches in {RepositoryConfig.Path}, for a repository's own environment only its " +
                    "listed branches); only a branch that deploys there may run a job in it", false, null);
        }

        if (await environmentLocks.BlockingAsync(repository, environment, requester, cancellationToken) is { } locked)
        {
            return (locked.Describe(), true, null);
        }

        if (!forced && policy.FreezeOn(environment, config, clock.GetUtcNow(), policy.TargetOf(environment, repository, config)) is { } freeze)
        {
            return (freeze.Describe(), true, freeze.Until);
        }

        if (sha is not null)
        {
            // "Is this commit green" has two halves: commit statuses and check runs (GitHub Actions reports only there).
            var (owner, name) = GitHubNames.Split(repository);
            var combined = await github.Repository.Status.GetCombined(owner, name, sha);
            var runs = await new ApiConnection(github.Connection).Get<CheckRunsAnswer>(new Uri(
                $"repos/{Uri.EscapeDataString(owner)}/{Uri.EscapeDataString(name)}/commits/{Uri.EscapeDataString(sha)}/check-runs", UriKind.Relative),
                new Dictionary<string, string> { ["per_page"] = "100" });
            var failing = combined.Statuses.Where(s => s.State.StringValue is "failure" or "error").Select(s => s.Context)
                .Concat((runs?.CheckRuns ?? []).Where(r => r.Status == "completed" && r.Conclusion is not ("success" or "neutral" or "skipped")).Select(r => r.Name))
                .Where(check => check != ConfigGate.StatusContext)
                .ToList();
            if (failing.Count > 0)
            {
                return ($"the commit's checks are failing ({string.Join(", ", failing)})", false, null);
            }

            // A check run still running may be the very job that asks (it waits for this answer): only statuses are waited for.
            if (combined.State.StringValue == "pending" && combined.TotalCount > 0)
            {
                return ("the commit's checks are still pending", true, null);
            }
        }

        return (null, false, null);
    }

    /// <summary>The fields of GitHub's check-runs list the rule reads.</summary>
    private sealed class CheckRunsAnswer
    {
        public List<CheckRunItem> CheckRuns { get; set; } = [];
    }

    private sealed class CheckRunItem
    {
        public string Name { get; set; } = "";
        public string? Status { get; set; }
        public string? Conclusion { get; set; }
    }
}
