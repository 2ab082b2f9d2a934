using Octokit;

namespace DeployFunctions.Commands;

/// <summary>
/// A pull request's head that is behind a branch it should contain would roll that branch's commits back where it
/// deploys (branch-deploy's <c>outdated_mode</c> and <c>update_branch</c>). The head is compared by commit with each branch
/// the mode names; a rollback to the stable branch is never held back by this.
/// </summary>
public static class OutdatedBranches
{
    public const string Strict = "strict";
    public const string PullRequestBase = "pr_base";
    public const string DefaultBranch = "default_branch";
    public const string Warn = "warn";
    public const string Force = "force";
    public const string Disabled = "disabled";

    public static readonly IReadOnlyList<string> Modes = [Strict, PullRequestBase, DefaultBranch];
    public static readonly IReadOnlyList<string> Updates = [Warn, Force, Disabled];

    /// <summary>The branches a head must not be behind under <paramref name="mode"/>, the pull request's base first.</summary>
    public static IReadOnlyList<string> BranchesFor(string mode, string baseRef, string stableBranch) => mode switch
    {
        PullRequestBase => [baseRef],
        DefaultBranch => [stableBranch],
        _ => string.Equals(baseRef, stableBranch, StringComparison.Ordinal) ? [baseRef] : [baseRef, stableBranch],
    };

    /// <summary>
    /// Null when <paramref name="headSha"/> (the commit to deploy: the head, or one of its history) contains every commit of each branch the mode names (or the check is
    /// <c>disabled</c>); otherwise why it may not deploy, and, with <c>force</c>, GitHub has been asked to update the branch
    /// with its base (only the base: merging the stable branch into someone's branch is theirs to do).
    /// </summary>
    public static async Task<string?> RefuseAsync(
        IGitHubClient github, string owner, string name, long pullRequest, string headSha, string pullRequestHead, string baseRef,
        string stableBranch, string mode, string update, string prefix)
    {
        ArgumentNullException.ThrowIfNull(github);
        if (update == Disabled)
        {
            return null;
        }

        foreach (var branch in BranchesFor(mode, baseRef, stableBranch))
        {
            var comparison = await github.Repository.Commit.Compare(owner, name, branch, headSha);
            if (comparison.BehindBy == 0)
            {
                continue;
            }

            var behind = $"this branch is {comparison.BehindBy} commit{(comparison.BehindBy == 1 ? "" : "s")} behind `{branch}` ([compare]({comparison.HtmlUrl})), " +
                         $"so deploying it would roll those commits back (Commands__OutdatedMode `{mode}`)";
            if (update == Force && string.Equals(branch, baseRef, StringComparison.Ordinal))
            {
                await new ApiConnection(github.Connection).Put<object>(
                    new Uri($"repos/{owner}/{name}/pulls/{pullRequest}/update-branch", UriKind.Relative),
                    new Dictionary<string, string> { ["expected_head_sha"] = pullRequestHead });
                return $"{behind}. I asked GitHub to update it with `{branch}`; comment `{prefix}deploy` again once its checks pass";
            }

            return $"{behind}. Update it with `{branch}` (merge or rebase), then comment again";
        }

        return null;
    }
}
