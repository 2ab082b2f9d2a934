using System.Text;

namespace DeployFunctions.Commands;

/// <summary>The texts of <c>.help</c> and of the hints in replies.</summary>
internal static class Help
{
    public static string Short(string prefix) => $"`{prefix}help` lists the commands.";

    public static string LockTip(string prefix) => $"`{prefix}lock --details` shows who holds a lock; `{prefix}wcid` shows every environment.";

    public static string Full(
        string prefix, IReadOnlyList<string> environments, string defaultEnvironment, string stableBranch, Policy.CommandRules rules,
        Policy.CheckSelection checks, bool stickyLocks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentNullException.ThrowIfNull(rules);
        var outdated = rules.UpdateBranch == OutdatedBranches.Disabled
            ? "an outdated head is deployed anyway"
            : $"a head behind {string.Join(" or ", OutdatedBranches.BranchesFor(rules.OutdatedMode, "its base", $"`{stableBranch}`"))} is not deployed" +
              (rules.UpdateBranch == OutdatedBranches.Force ? " (GitHub is asked to update it)" : "");
        var text = new StringBuilder();
        text.Append("**DeployFunctions commands** (first line of a new comment on a pull request)\n\n")
            .Append("| command | does |\n|---|---|\n")
            .Append($"| `{prefix}deploy` / `{prefix}deploy to <env>` | deploy this pull request's head commit (default: `{defaultEnvironment}`) |\n")
            .Append($"| `{prefix}noop` / `{prefix}noop to <env>` | a dry run: the deploy is told to change nothing |\n")
            .Append($"| `{prefix}deploy <env>`, `{prefix}noop <env>` | the same as `to <env>` |\n")
            .Append($"| `{prefix}deploy {stableBranch}` | roll back: deploy the head of `{stableBranch}` |\n")
            .Append(rules.AllowShaDeployments ? $"| `{prefix}deploy <sha>` | deploy a commit of this pull request's history (all 40 characters) |\n" : "")
            .Append($"| `{prefix}deploy ... \\| <parameters>` | pass everything after `\\|` to the deployment (at most {ChatCommand.MaxParamsLength} characters) |\n")
            .Append($"| `{prefix}lock [<env>] [--for 2h] [--reason <text>]`, `{prefix}lock --global` | hold an environment (or all) until you unlock it, or for a while |\n")
            .Append($"| `{prefix}unlock [<env>]`, `{prefix}unlock --global` | release it (its holder, or an admin) |\n")
            .Append($"| `{prefix}lock --details [<env>]` | who holds the lock, since when and why |\n")
            .Append($"| `{prefix}wcid` | what is locked and what is deploying, per environment |\n")
            .Append($"| `{prefix}preview [<sha>]` | let a fork's head deploy to this pull request's preview (write permission; that commit only) |\n")
            .Append($"| `{prefix}help` | this list |\n\n")
            .Append("Environments of this repository: ")
            .Append(string.Join(", ", environments.Select(e => $"`{e}`")))
            .Append(".\n\nRules here: at least `").Append(rules.MinimumPermission).Append("` permission")
            .Append(rules.AllowLists.Count > 0 ? ", and on the allow-list" : "")
            .Append(rules.RequireApproval ? "; a deploy needs an approving review of its head" : "; no review needed")
            .Append(rules.AllowForks ? "; forks may deploy" : "; forks do not deploy")
            .Append("; ").Append(outdated)
            .Append(rules.DisableNakedCommands ? $"; name the environment (`{prefix}deploy to <env>`)" : "")
            .Append(rules.DraftPermittedTargets.Count > 0 ? $"; a draft deploys only to {string.Join(", ", rules.DraftPermittedTargets.Select(t => $"`{t}`"))}" : "; drafts do not deploy")
            .Append("; checks: ").Append(checks.Describe())
            .Append(rules.ConfirmTargets.Count > 0 ? $"; a deploy to {string.Join(", ", rules.ConfirmTargets.Select(t => $"`{t}`"))} waits for your 👍 on its question" : "")
            .Append(stickyLocks ? "; a deploy's lock stays until unlocked" : "; a deploy locks its environment until it ends").Append('.');
        return text.ToString();
    }
}
