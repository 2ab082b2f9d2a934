using DeployFunctions.Commands;
using DeployFunctions.Config;
using DeployFunctions.GitHub;
using DeployFunctions.Deployments;
using DeployFunctions.Ledger;
using DeployFunctions.Providers;
using Microsoft.Extensions.Options;
using Octokit.Webhooks.Events.PullRequest;

namespace DeployFunctions.Policy;

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

    /// <summary>The operator's target when the environment is the repository's own (<c>environments.&lt;name&gt;.target</c>); null: the app's environment.</summary>
    public string? Target { get; init; }

    /// <summary>When the merge landed: the deployment's place in its environment's order (newest wins).</summary>
    public required DateTimeOffset MergedAt { get; init; }

    /// <summary>The pull request of the same repository this merge reverts (its body's "Reverts owner/name#n"), for the board.</summary>
    public long? Reverts { get; init; }

    public string FullName => $"{Owner}/{Repository}";
}

/// <summary>
/// What is known about a <c>.deploy</c> / <c>.noop</c> when the policy is asked, gathered from GitHub by the handler: who wrote
/// each fact is GitHub itself (state, head, base, its review verdict, checks) or people with write access (the reviews).
/// </summary>
public sealed record CommandFacts
{
    public required string Repository { get; init; }
    public required long PullRequest { get; init; }

    /// <summary>Where the command deploys: named, or where the default branch deploys.</summary>
    public required string Environment { get; init; }

    /// <summary>Who commented: their own approval never counts for their own command.</summary>
    public required string Commenter { get; init; }

    public required bool PullRequestOpen { get; init; }

    /// <summary>The branch the pull request would merge into: its author chose it.</summary>
    public required string BaseRef { get; init; }

    /// <summary>The repository's default branch (from the signed webhook): where the policy comes from.</summary>
    public required string DefaultBranch { get; init; }

    /// <summary>The pull request's head is in another repository (or a deleted one).</summary>
    public required bool FromFork { get; init; }

    /// <summary>The pull request is a draft (GitHub's <c>isDraft</c>).</summary>
    public bool Draft { get; init; }

    public string? HeadRepository { get; init; }

    /// <summary>People with write access whose latest review approves the head commit.</summary>
    public required IReadOnlyList<string> ApprovedBy { get; init; }

    /// <summary>Who GitHub says wrote and committed the head commit: their approval does not count either.</summary>
    public IReadOnlyList<string> HeadAuthors { get; init; } = [];

    /// <summary>People with write access whose latest review requests changes.</summary>
    public required IReadOnlyList<string> ChangesRequestedBy { get; init; }

    /// <summary>GitHub's own verdict on the reviews for the base branch's rules; null when the branch requires none.</summary>
    public string? ReviewDecision { get; init; }

    /// <summary>The head commit's check runs and commit statuses.</summary>
    public required IReadOnlyList<CommitCheck> Checks { get; init; }

    /// <summary>How many approvals (not the commenter's, not the head's authors') a deploy needs: the file may raise it above one.</summary>
    public int RequiredApprovals { get; init; } = 1;

    /// <summary>Which of <see cref="Checks"/> must pass (all by default).</summary>
    public CheckSelection CheckRules { get; init; } = CheckSelection.Everything;

    /// <summary><c>.deploy &lt;stable branch&gt;</c>: the stable branch's head, not the pull request's.</summary>
    public required bool Rollback { get; init; }

    public required bool Noop { get; init; }
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
public sealed partial class DeployPolicy(
    IOptions<DeployOptions> options,
    IOptions<EnvironmentsOptions>? environments = null,
    IOptions<CommandOptions>? commands = null,
    IOptions<FreezeOptions>? freezes = null)
{
    private readonly EnvironmentsOptions environmentSettings = environments?.Value ?? new EnvironmentsOptions();
    private readonly IReadOnlyList<FreezeWindow> operatorFreezes = freezes?.Value.Windows ?? [];
    private readonly DeployOptions options = options.Value;
    private readonly CommandOptions commands = commands?.Value ?? new CommandOptions();
    private readonly IReadOnlyDictionary<string, string> branches = options.Value.ParseBranchEnvironments();
    private readonly IReadOnlyList<string> repositories = options.Value.ParseRepositories();

    /// <summary>
    /// The environments this app deploys to: where branches deploy, the default, and every configured one. A command may
    /// name only these.
    /// </summary>
    public IReadOnlyList<string> Environments { get; } =
        [.. options.Value.ParseBranchEnvironments().Values.Append(options.Value.DefaultEnvironment)
            .Concat((IEnumerable<string>?)environments?.Value.Environments.Keys ?? [])
            .Where(name => !string.IsNullOrWhiteSpace(name))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.OrdinalIgnoreCase)];

    /// <summary>The environment a command deploys to when it names none: where the default branch deploys.</summary>
    public string DefaultEnvironmentFor(string defaultBranch) =>
        branches.Count > 0 && branches.TryGetValue(defaultBranch, out var environment) ? environment : options.DefaultEnvironment;

    /// <summary>The environment as configured (its spelling), or null when this app does not deploy to it.</summary>
    public string? KnownEnvironment(string name) =>
        Environments.FirstOrDefault(known => string.Equals(known, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// True when the repository may deploy at all: <c>Deploy__Repositories</c> names it, its owner (<c>owner/*</c>), or every
    /// repository (<c>*</c>, which the operator has to write out). Nothing is allowed by default: start-up refuses an empty list.
    /// </summary>
    public bool AllowsRepository(string fullName) => repositories.Any(allowed => Matches(allowed, fullName));

    /// <summary>
    /// True when a merge into <paramref name="branch"/> deploys to <paramref name="environment"/>: the operator's branch map
    /// (else the default branch to the default environment), narrowed by the file's <c>branches</c> for that environment.
    /// </summary>
    public bool DeploysFrom(string branch, string defaultBranch, string environment, RepositoryConfig? config, string? repository = null)
    {
        if (repository is not null && TargetOf(environment, repository, config) is not null)
        {
            // A repository's own environment: the branches its file lists (reviewed at the default branch), and no other.
            return config!.For(environment)?.Branches?.Contains(branch, StringComparer.Ordinal) == true;
        }

        var mapped = branches.Count > 0
            ? branches.GetValueOrDefault(branch)
            : string.Equals(branch, defaultBranch, StringComparison.Ordinal) ? options.DefaultEnvironment : null;
        if (!string.Equals(mapped, environment, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return config?.For(environment)?.Branches is not { } listed || listed.Contains(branch, StringComparer.Ordinal);
    }

    /// <summary>
    /// True when commands may deploy a pull request into <paramref name="baseRef"/>: the default branch, or a branch the
    /// operator maps to an environment (<c>Deploy__BranchEnvironments</c>). Any other base is one the pull request's author chose.
    /// </summary>
    public bool AllowsCommandBase(string baseRef, string defaultBranch) =>
        string.Equals(baseRef, defaultBranch, StringComparison.Ordinal) || branches.ContainsKey(baseRef);

    /// <summary>
    /// Null when a <c>.deploy</c> / <c>.noop</c> may go ahead with these facts, else why not (the reply says it): which
    /// commit, into which base, whether GitHub's own review rules and ours are met, and whether its checks pass, by the rules
    /// of <c>Commands__*</c> and the repository's file. Who may ask at all (permission, allow-lists, the same
    /// <see cref="CommandRules"/>) is checked for every command before this.
    /// </summary>
    public string? RefuseCommand(CommandFacts facts, CommandRules? rules = null)
    {
        ArgumentNullException.ThrowIfNull(facts);
        rules ??= CommandRulesFor(null);
        if (!AllowsRepository(facts.Repository))
        {
            return $"repository {facts.Repository} is not in Deploy__Repositories";
        }

        if (!AllowsCommandBase(facts.BaseRef, facts.DefaultBranch))
        {
            return $"pull request #{facts.PullRequest} is based on `{facts.BaseRef}`, not the default branch `{facts.DefaultBranch}`; commands deploy " +
                   $"only pull requests into `{facts.DefaultBranch}`{(branches.Count > 0 ? $" or a branch Deploy__BranchEnvironments maps ({string.Join(", ", branches.Keys.Select(b => $"`{b}`"))})" : "")}";
        }

        if (!facts.PullRequestOpen)
        {
            return $"pull request #{facts.PullRequest} is closed; a closed pull request is not deployed";
        }

        if (facts.Rollback)
        {
            return null; // the stable branch's head: already merged, reviewed where it landed
        }

        // A pull request into another mapped branch was reviewed by that branch's rules: it deploys only where that branch deploys.
        if (!string.Equals(facts.BaseRef, facts.DefaultBranch, StringComparison.Ordinal) &&
            !string.Equals(branches.GetValueOrDefault(facts.BaseRef), facts.Environment, StringComparison.OrdinalIgnoreCase))
        {
            return $"pull request #{facts.PullRequest} is based on `{facts.BaseRef}`, which deploys to {branches.GetValueOrDefault(facts.BaseRef)}, " +
                   $"not {facts.Environment}; a pull request deploys to another environment only from the default branch `{facts.DefaultBranch}`";
        }

        if (facts.Draft && !rules.DraftPermittedTargets.Contains(facts.Environment, StringComparer.OrdinalIgnoreCase))
        {
            return $"pull request #{facts.PullRequest} is a draft; " + (rules.DraftPermittedTargets.Count == 0
                ? "drafts are not deployed (Commands__DraftPermittedTargets): mark it ready for review first"
                : $"a draft deploys only to {string.Join(", ", rules.DraftPermittedTargets.Select(t => $"`{t}`"))} (Commands__DraftPermittedTargets)");
        }

        if (facts.FromFork && !rules.AllowForks)
        {
            return $"the head of pull request #{facts.PullRequest} is in a fork ({facts.HeadRepository ?? "a deleted repository"}); fork commits are not deployed (Commands__AllowForks)";
        }

        // A noop runs the head's code in the environment too (a workflow's plan step, a hook's dry run): reviewed like a deploy
        // unless the operator opts into branch-deploy's unreviewed noops (Commands__NoopSkipsReview).
        var reviewed = !facts.Noop || !rules.NoopSkipsReview;
        if (reviewed && facts.ReviewDecision is "CHANGES_REQUESTED" or "REVIEW_REQUIRED")
        {
            return $"GitHub's review rules for `{facts.BaseRef}` are not met ({facts.ReviewDecision}): the pull request could not be merged on its reviews " +
                   "(required approvals, code owners, dismissed stale reviews)";
        }

        if ((rules.RequireApproval || facts.RequiredApprovals > 1) && reviewed)
        {
            if (facts.ChangesRequestedBy.Count > 0)
            {
                return $"changes are requested by {string.Join(", ", facts.ChangesRequestedBy.Select(login => "@" + login))}";
            }

            // Someone approving what they ask to deploy, or what they wrote, is not a second pair of eyes.
            var counted = facts.ApprovedBy.Where(login => !string.Equals(login, facts.Commenter, StringComparison.OrdinalIgnoreCase) &&
                                                          !facts.HeadAuthors.Contains(login, StringComparer.OrdinalIgnoreCase)).ToList();
            if (counted.Count > 0 && counted.Count < facts.RequiredApprovals)
            {
                return $"{facts.Environment} needs {facts.RequiredApprovals} approvals of the head commit by people with write access (required_approvals in " +
                       $"{RepositoryConfig.Path}); it has {counted.Count} ({string.Join(", ", counted.Select(login => "@" + login))})";
            }

            if (counted.Count == 0)
            {
                return facts.ApprovedBy.Count == 0
                    ? $"pull request #{facts.PullRequest} has no approving review of its head commit by someone with write access (Commands__RequireApproval)"
                    : $"pull request #{facts.PullRequest} is approved only by {string.Join(", ", facts.ApprovedBy.Select(login => "@" + login))}: " +
                      "an approval by the commenter or by the head commit's author does not count (Commands__RequireApproval)";
            }
        }

        return facts.CheckRules.Blocking(facts.Checks);
    }

    public MergeDecision Decide(PullRequestClosedEvent merged, RepositoryConfig? config = null)
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

        if (!AllowsRepository(repository.FullName))
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
        var own = OwnEnvironmentFor(repository.FullName, baseBranch, config);
        if (own is { } claimed)
        {
            // The repository's own environment lists the branch: its merges deploy there, on the target the app grants it.
            environment = claimed.Name;
        }
        else if (branches.Count > 0)
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

        if (config?.For(environment) is { } narrowed)
        {
            if (narrowed.AutoDeploy == false)
            {
                return new MergeDecision.DoNotDeploy(
                    $"merges do not deploy to {environment} in this repository (auto_deploy: false in {RepositoryConfig.Path})");
            }

            if (narrowed.Branches is { } listed && !listed.Contains(baseBranch, StringComparer.Ordinal))
            {
                return new MergeDecision.DoNotDeploy(
                    $"base branch '{baseBranch}' of pull request #{number} does not deploy to {environment} in {RepositoryConfig.Path}");
            }
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
            Target = own?.Target,
            MergedAt = pullRequest.MergedAt ?? pullRequest.ClosedAt ?? DateTimeOffset.MinValue,
            Reverts = Reverted(pullRequest.Body, repository.FullName),
        });
    }

    /// <summary>
    /// The pull request a revert's body names, as GitHub's "Revert" button writes it: "Reverts owner/name#n" at the start of
    /// a line, of this repository only.
    /// </summary>
    public static long? Reverted(string? body, string repository)
    {
        foreach (var line in (body ?? "").Split('\n'))
        {
            var text = line.Trim();
            var prefix = $"Reverts {repository}#";
            if (text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) &&
                long.TryParse(text.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) &&
                number > 0)
            {
                return number;
            }
        }

        return null;
    }

    /// <summary>
    /// Null when the ledger deployment may still run; else why not. The repository must still be allowed and the
    /// environment must still be where its branch deploys.
    /// </summary>
    public string? Recheck(LedgerEntry deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (!AllowsRepository(deployment.Repository))
        {
            return $"repository {deployment.Repository} is no longer in Deploy__Repositories";
        }

        if (deployment.Target is { } target)
        {
            // A repository's own environment: its target must still exist and still be granted to the repository.
            return environmentSettings.Targets.TryGetValue(target, out var settings) && Grants(settings, deployment.Repository)
                ? null
                : $"target '{target}' is no longer granted to {deployment.Repository} (Targets__{target}__Repositories)";
        }

        if (deployment.Source == LedgerSources.Command)
        {
            return KnownEnvironment(deployment.Environment) is null
                ? $"{deployment.Environment} is no longer an environment this app deploys to"
                : null;
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
        allowed == "*" ||
        allowed.EndsWith("/*", StringComparison.Ordinal)
            ? fullName.StartsWith(allowed[..^1], StringComparison.OrdinalIgnoreCase)
            : string.Equals(allowed, fullName, StringComparison.OrdinalIgnoreCase);
}
