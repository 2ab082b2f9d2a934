using DeployFunctions.Deployments;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Commands;

/// <summary>Chat commands on pull requests and environment locks. Section <c>Commands</c>.</summary>
public sealed class CommandOptions
{
    public const string SectionName = "Commands";

    /// <summary>Off: comments are answered 200 <c>ignored</c> at the door. App setting <c>Commands__Enabled</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>What a command starts with, e.g. <c>.</c> for <c>.deploy</c>. App setting <c>Commands__Prefix</c>.</summary>
    public string Prefix { get; set; } = ".";

    /// <summary>
    /// The least repository permission a commenter needs: <c>write</c>, <c>maintain</c> or <c>admin</c>.
    /// App setting <c>Commands__MinimumPermission</c>.
    /// </summary>
    public string MinimumPermission { get; set; } = PermissionLevels.Write;

    /// <summary>
    /// Who may run commands besides having the permission: logins and <c>org/team-slug</c> teams, separated by <c>;</c> or
    /// <c>,</c>. Empty: everyone with the permission. App setting <c>Commands__AllowedUsers</c>.
    /// </summary>
    public string? AllowedUsers { get; set; }

    /// <summary>A branch deploy needs an approving review and no requested changes. App setting <c>Commands__RequireApproval</c>.</summary>
    public bool RequireApproval { get; set; } = true;

    /// <summary>
    /// <c>.noop</c> skips the review rules, as branch-deploy's noop does. Off by default: a noop runs the head's code in the
    /// environment (a workflow's plan step, with that environment's secrets), so it is reviewed like a deploy.
    /// App setting <c>Commands__NoopSkipsReview</c>.
    /// </summary>
    public bool NoopSkipsReview { get; set; }

    /// <summary>Allow deploying a pull request whose head is in a fork. App setting <c>Commands__AllowForks</c>.</summary>
    public bool AllowForks { get; set; }

    /// <summary>
    /// Which branches a pull request's head must not be behind to deploy (branch-deploy's <c>outdated_mode</c>):
    /// <c>strict</c> (its base and the stable branch), <c>pr_base</c>, or <c>default_branch</c> (the stable branch).
    /// App setting <c>Commands__OutdatedMode</c>.
    /// </summary>
    public string OutdatedMode { get; set; } = OutdatedBranches.Strict;

    /// <summary>
    /// What an outdated head gets (branch-deploy's <c>update_branch</c>): <c>warn</c> (refused, with how far behind and a
    /// compare link), <c>force</c> (refused, and GitHub is asked to update the branch with its base), or <c>disabled</c>
    /// (deployed anyway: dangerous). App setting <c>Commands__UpdateBranch</c>.
    /// </summary>
    public string UpdateBranch { get; set; } = OutdatedBranches.Warn;

    /// <summary>
    /// A bare <c>.deploy</c> / <c>.noop</c> is refused: the environment must be named (branch-deploy's
    /// <c>disable_naked_commands</c>). App setting <c>Commands__DisableNakedCommands</c>.
    /// </summary>
    public bool DisableNakedCommands { get; set; }

    /// <summary>
    /// The environments a draft pull request may deploy to (branch-deploy's <c>draft_permitted_targets</c>), separated by
    /// <c>;</c> or <c>,</c>; empty: drafts are not deployed. App setting <c>Commands__DraftPermittedTargets</c>.
    /// </summary>
    public string? DraftPermittedTargets { get; set; }

    /// <summary>
    /// Which checks of the commit must pass for <c>.deploy</c> / <c>.noop</c> (branch-deploy's <c>checks</c>): <c>all</c>,
    /// <c>required</c> (those the base branch's protection or rulesets require), or a list of names. Unset: as
    /// <c>Deploy__RequiredContexts</c> (all, or the contexts it lists). Names in <c>Deploy__RequiredContexts</c> must pass
    /// in every mode. App setting <c>Commands__Checks</c>.
    /// </summary>
    public string? Checks { get; set; }

    /// <summary>Checks that never block a command (branch-deploy's <c>ignored_checks</c>), unless named. App setting <c>Commands__IgnoredChecks</c>.</summary>
    public string? IgnoredChecks { get; set; }

    /// <summary>
    /// <c>.deploy &lt;sha&gt;</c> deploys a commit reachable from the pull request's head (branch-deploy's
    /// <c>allow_sha_deployments</c>). Off by default. App setting <c>Commands__AllowShaDeployments</c>.
    /// </summary>
    public bool AllowShaDeployments { get; set; }

    /// <summary>
    /// Environments where a <c>.deploy</c> waits for the commenter's 👍 on the app's confirmation (branch-deploy's
    /// <c>deployment_confirmation</c>), separated by <c>;</c> or <c>,</c>. App setting <c>Commands__DeploymentConfirmation</c>.
    /// </summary>
    public string? DeploymentConfirmation { get; set; }

    /// <summary>How long a confirmation waits for the 👍 before it is cancelled. App setting <c>Commands__DeploymentConfirmationTimeoutSeconds</c>.</summary>
    public double DeploymentConfirmationTimeoutSeconds { get; set; } = 60;

    /// <summary>How often the confirmation's reactions are read while waiting. App setting <c>Commands__DeploymentConfirmationPollSeconds</c>.</summary>
    public double DeploymentConfirmationPollSeconds { get; set; } = 2;

    /// <summary>
    /// The lock a <c>.deploy</c> takes on its environment stays after the deployment ends, until <c>.unlock</c>
    /// (branch-deploy's <c>sticky_locks</c>); off: it is released when the deployment ends. App setting <c>Commands__StickyLocks</c>.
    /// </summary>
    public bool StickyLocks { get; set; }

    /// <summary>
    /// Locks taken from a pull request are released when it is merged or closed, with one comment (branch-deploy's
    /// <c>unlock_on_merge_mode</c>). App setting <c>Commands__UnlockOnMerge</c>.
    /// </summary>
    public bool UnlockOnMerge { get; set; }

    /// <summary>The branch <c>.deploy &lt;branch&gt;</c> rolls back to; empty: the repository's default branch. App setting <c>Commands__StableBranch</c>.</summary>
    public string? StableBranch { get; set; }

    /// <summary>How long a merge's deployment waits for a lock someone else holds before it gives up. App setting <c>Commands__LockWaitMinutes</c>.</summary>
    public double LockWaitMinutes { get; set; } = 120;

    /// <summary>How often a waiting merge looks at the lock again. App setting <c>Commands__LockPollSeconds</c>.</summary>
    public double LockPollSeconds { get; set; } = 15;

    public IReadOnlyList<string> ParseAllowedUsers() => [.. DeployOptions.Split(AllowedUsers)];

    public IReadOnlyList<string> ParseDraftPermittedTargets() => [.. DeployOptions.Split(DraftPermittedTargets)];

    public IReadOnlyList<string> ParseIgnoredChecks() => [.. DeployOptions.Split(IgnoredChecks)];

    public IReadOnlyList<string> ParseDeploymentConfirmation() => [.. DeployOptions.Split(DeploymentConfirmation)];

    /// <summary><see cref="Checks"/> as a mode and names; null when unset.</summary>
    public (string Mode, IReadOnlyList<string> Names)? ParseChecks() => Checks?.Trim() switch
    {
        null or "" => null,
        var all when string.Equals(all, Policy.CheckSelection.All, StringComparison.OrdinalIgnoreCase) => (Policy.CheckSelection.All, []),
        var required when string.Equals(required, Policy.CheckSelection.Required, StringComparison.OrdinalIgnoreCase) => (Policy.CheckSelection.Required, []),
        var list => (Policy.CheckSelection.Listed, [.. DeployOptions.Split(list)]),
    };
}

/// <summary>GitHub's repository permissions, lowest first (<c>role_name</c> of the collaborator permission answer).</summary>
public static class PermissionLevels
{
    public const string Read = "read";
    public const string Triage = "triage";
    public const string Write = "write";
    public const string Maintain = "maintain";
    public const string Admin = "admin";

    private static readonly string[] Ranked = ["none", Read, Triage, Write, Maintain, Admin];

    /// <summary>The rank of a permission (0 for none or unknown).</summary>
    public static int Rank(string? permission) =>
        Math.Max(0, Array.FindIndex(Ranked, p => string.Equals(p, permission, StringComparison.OrdinalIgnoreCase)));

    public static bool AtLeast(string? permission, string minimum) => Rank(permission) >= Rank(minimum);
}

internal sealed class CommandOptionsValidator : IValidateOptions<CommandOptions>
{
    public ValidateOptionsResult Validate(string? name, CommandOptions options)
    {
        var failures = new List<string>();
        if (!OutdatedBranches.Modes.Contains(options.OutdatedMode))
        {
            failures.Add($"Commands__OutdatedMode must be one of {string.Join(", ", OutdatedBranches.Modes)}.");
        }

        if (!OutdatedBranches.Updates.Contains(options.UpdateBranch))
        {
            failures.Add($"Commands__UpdateBranch must be one of {string.Join(", ", OutdatedBranches.Updates)}.");
        }

        if (string.IsNullOrWhiteSpace(options.Prefix) || options.Prefix.Length > 10 || options.Prefix.Any(char.IsWhiteSpace) ||
            options.Prefix.StartsWith('<'))
        {
            failures.Add("Commands__Prefix must be 1-10 characters with no spaces, not starting with '<' (e.g. '.' or '/').");
        }

        if (options.MinimumPermission is not (PermissionLevels.Write or PermissionLevels.Maintain or PermissionLevels.Admin))
        {
            failures.Add("Commands__MinimumPermission must be write, maintain or admin.");
        }

        if (options.DeploymentConfirmationTimeoutSeconds is <= 0 or > 3600 || options.DeploymentConfirmationPollSeconds is <= 0 or > 60)
        {
            failures.Add("Commands__DeploymentConfirmationTimeoutSeconds must be above 0 and at most 3600, and Commands__DeploymentConfirmationPollSeconds above 0 and at most 60.");
        }

        if (options.LockWaitMinutes < 0 || options.LockPollSeconds <= 0)
        {
            failures.Add("Commands__LockWaitMinutes must be >= 0 and Commands__LockPollSeconds > 0.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
