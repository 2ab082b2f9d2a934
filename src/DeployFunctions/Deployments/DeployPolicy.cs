using Microsoft.Extensions.Options;
using Octokit.Webhooks.Events.PullRequest;

namespace DeployFunctions.Deployments;

/// <summary>The deployment a merged pull request asks for.</summary>
public sealed record DeploymentRequest
{
    public required string Owner { get; init; }
    public required string Repository { get; init; }
    public required string Sha { get; init; }
    public required string Environment { get; init; }
    public required long PullRequestNumber { get; init; }
    public required string PullRequestTitle { get; init; }
    public required string DeployUser { get; init; }
    public required string BaseBranch { get; init; }

    /// <summary>When the merge landed: the deployment's place in its environment's order (newest wins).</summary>
    public required DateTimeOffset MergedAt { get; init; }

    public string FullName => $"{Owner}/{Repository}";
}

/// <summary>Whether a merged pull request deploys, and where; every "no" carries its reason.</summary>
public abstract record MergeDecision
{
    private MergeDecision()
    {
    }

    public sealed record Deploy(DeploymentRequest Request) : MergeDecision;

    public sealed record DoNotDeploy(string Reason) : MergeDecision;
}

/// <summary>
/// The one place that answers "may this commit deploy to this environment?": for a merge when it is delivered
/// (<see cref="Decide"/>), and again for a ledger deployment just before it runs (<see cref="Recheck"/>), so a change of
/// settings in between is honoured.
/// </summary>
public sealed class DeployPolicy(IOptions<DeployOptions> options)
{
    private readonly DeployOptions options = options.Value;
    private readonly IReadOnlyDictionary<string, string> branches = options.Value.ParseBranchEnvironments();
    private readonly IReadOnlyList<string> repositories = options.Value.ParseRepositories();

    public MergeDecision Decide(PullRequestClosedEvent merged)
    {
        ArgumentNullException.ThrowIfNull(merged);
        var pullRequest = merged.PullRequest;
        var repository = merged.Repository;
        if (pullRequest is null || repository is null)
        {
            return new MergeDecision.DoNotDeploy("the payload has no pull_request or repository");
        }

        var number = pullRequest.Number;
        if (pullRequest.Merged != true)
        {
            return new MergeDecision.DoNotDeploy($"pull request #{number} was closed without merging");
        }

        if (string.IsNullOrEmpty(pullRequest.MergeCommitSha))
        {
            return new MergeDecision.DoNotDeploy($"pull request #{number} has no merge_commit_sha");
        }

        if (repositories.Count > 0 && !repositories.Any(allowed => Matches(allowed, repository.FullName)))
        {
            return new MergeDecision.DoNotDeploy(
                $"repository {repository.FullName} is not in Deploy__Repositories");
        }

        if (!string.IsNullOrWhiteSpace(options.SkipLabel) &&
            pullRequest.Labels.Any(label => string.Equals(label.Name, options.SkipLabel, StringComparison.OrdinalIgnoreCase)))
        {
            return new MergeDecision.DoNotDeploy($"pull request #{number} has the label '{options.SkipLabel}'");
        }

        // The base branch is where the merge landed: in the base repository, also for pull requests from forks.
        var baseBranch = pullRequest.Base.Ref;
        string? environment;
        if (branches.Count > 0)
        {
            if (!branches.TryGetValue(baseBranch, out environment))
            {
                return new MergeDecision.DoNotDeploy(
                    $"base branch '{baseBranch}' of pull request #{number} is not mapped to an environment in Deploy__BranchEnvironments");
            }
        }
        else if (string.Equals(baseBranch, repository.DefaultBranch, StringComparison.Ordinal))
        {
            environment = options.DefaultEnvironment;
        }
        else
        {
            return new MergeDecision.DoNotDeploy(
                $"pull request #{number} was merged into '{baseBranch}', not the default branch '{repository.DefaultBranch}'");
        }

        return new MergeDecision.Deploy(new DeploymentRequest
        {
            Owner = repository.Owner.Login,
            Repository = repository.Name,
            // The commit that landed on the base branch (merge, squash or rebase): never the head, which may be a fork.
            Sha = pullRequest.MergeCommitSha,
            Environment = environment,
            PullRequestNumber = number,
            PullRequestTitle = pullRequest.Title ?? "",
            DeployUser = pullRequest.MergedBy?.Login ?? merged.Sender?.Login ?? "unknown",
            BaseBranch = baseBranch,
            MergedAt = pullRequest.MergedAt ?? pullRequest.ClosedAt ?? DateTimeOffset.MinValue,
        });
    }

    /// <summary>
    /// Null when the ledger deployment may still run; else why not. The repository must still be allowed and the
    /// environment must still be where its branch deploys.
    /// </summary>
    public string? Recheck(LedgerEntry deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (repositories.Count > 0 && !repositories.Any(allowed => Matches(allowed, deployment.Repository)))
        {
            return $"repository {deployment.Repository} is no longer in Deploy__Repositories";
        }

        if (deployment.Source != LedgerSources.Merge)
        {
            return $"deployments from '{deployment.Source}' are not allowed";
        }

        var environment = branches.Count > 0
            ? branches.GetValueOrDefault(deployment.BaseBranch)
            : options.DefaultEnvironment;
        return string.Equals(environment, deployment.Environment, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"branch '{deployment.BaseBranch}' no longer deploys to {deployment.Environment} (Deploy__BranchEnvironments, Deploy__DefaultEnvironment)";
    }

    internal static bool Matches(string allowed, string fullName) =>
        allowed.EndsWith("/*", StringComparison.Ordinal)
            ? fullName.StartsWith(allowed[..^1], StringComparison.OrdinalIgnoreCase)
            : string.Equals(allowed, fullName, StringComparison.OrdinalIgnoreCase);
}

/// <summary>What asked for a ledger deployment.</summary>
public static class LedgerSources
{
    public const string Merge = "merge";
}
