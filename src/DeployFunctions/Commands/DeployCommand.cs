using System.Globalization;
using System.Net;
using System.Text.Json;
using DeployFunctions.Board;
using DeployFunctions.Config;
using DeployFunctions.Deployments;
using DeployFunctions.GitHub;
using DeployFunctions.Ledger;
using DeployFunctions.Policy;
using Microsoft.Extensions.Options;
using Octokit;

namespace DeployFunctions.Commands;

/// <summary>
/// <c>.deploy</c>, <c>.noop</c> and <c>.deploy &lt;stable branch&gt;</c>: the pull request's facts from GitHub, the same policy,
/// locks and freezes as every deploy path, then a deployment the ledger approved before GitHub was asked. Its result is
/// replied when the runner reports it (<see cref="CommandFeedback"/>).
/// </summary>
public sealed class DeployCommand(
    DeployPolicy policy,
    IDeploymentLedger ledger,
    IEnvironmentLocks environmentLocks,
    IGitHubClientFactory clients,
    IOptions<CommandOptions> commandOptions,
    TimeProvider clock,
    IDeployBoard? board = null)
{
    private readonly CommandOptions options = commandOptions.Value;

    internal async Task<CommandAnswer> DeployAsync(
        ChatCommand command, string environment, CommandContext context, PullRequestConversation conversation, RepositoryConfig? config,
        CommandRules rules, CancellationToken cancellationToken)
    {
        var noop = command.Verb == CommandVerb.Noop;
        var verb = noop ? "noop" : "deploy";
        var github = conversation.GitHub;
        var stable = string.IsNullOrWhiteSpace(options.StableBranch) ? context.DefaultBranch : options.StableBranch;
        var rollback = command.Branch is not null;
        if (rollback && !string.Equals(command.Branch, stable, StringComparison.Ordinal))
        {
            return CommandAnswer.Refuse($"{ChatCommand.Quote(command.Branch!)} is not the stable branch `{stable}`: `{options.Prefix}{verb} {stable}` rolls back to it, " +
                                        $"`{options.Prefix}{verb} to <environment>` deploys this pull request.");
        }

        if (command.Sha is not null && !rules.AllowShaDeployments)
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, `{options.Prefix}{verb} <sha>` is not taken here (Commands__AllowShaDeployments); " +
                                        $"`{options.Prefix}{verb}` deploys the pull request's head.");
        }

        if (await PullRequestFacts.ReadAsync(github, context.Repository, context.PullRequest, cancellationToken) is not { } pull)
        {
            return CommandAnswer.Refuse($"GitHub has no pull request #{context.PullRequest} in {context.Repository}.");
        }

        var sha = pull.HeadSha;
        var checks = pull.Checks;
        var approvedBy = pull.ApprovedBy;
        var asked = command.Sha;
        var byId = asked is not null && !string.Equals(asked, pull.HeadSha, StringComparison.OrdinalIgnoreCase);
        if (byId)
        {
            if (await NotInHistoryAsync(conversation, asked!, pull.HeadSha) is { } notReachable)
            {
                return CommandAnswer.Refuse($"@{context.Commenter}, I did not {verb} to {environment}: {notReachable}.");
            }

            // Reviewed and checked as itself: approving a later head does not cover it (a later commit can revert what a
            // reviewer saw), and a commit no check ran on is not deployed by id.
            (sha, approvedBy) = (asked!, pull.ApprovedAt(asked!));
            checks = await PullRequestFacts.ChecksOfCommitAsync(github, context.Repository, context.PullRequest, asked!, cancellationToken);
        }

        var checkRules = policy.ChecksFor(environment, config);
        var refusal = policy.RefuseCommand(new CommandFacts
        {
            Repository = context.Repository,
            PullRequest = context.PullRequest,
            Environment = environment,
            Commenter = context.Commenter,
            PullRequestOpen = pull.IsOpen,
            BaseRef = pull.BaseRef,
            DefaultBranch = context.DefaultBranch,
            FromFork = pull.FromFork,
            Draft = pull.Draft,
            HeadRepository = pull.HeadRepository,
            ApprovedBy = approvedBy,
            HeadAuthors = pull.HeadAuthors,
            ChangesRequestedBy = pull.ChangesRequestedBy,
            ReviewDecision = pull.ReviewDecision,
            Checks = checks,
            CheckRules = checkRules,
            RequiredApprovals = config?.For(environment)?.RequiredApprovals ?? 1,
            Rollback = rollback,
            Noop = noop,
        }, rules);
        if (refusal is not null)
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, I did not {verb} to {environment}: {refusal}.");
        }

        // Named reviewers of the environment: one of the approvals that count must be theirs (a rollback is not reviewed).
        if (!rollback && (!noop || !rules.NoopSkipsReview) && config?.For(environment)?.Reviewers is { Count: > 0 } reviewers &&
            !await ApprovedByReviewerAsync(github, approvedBy.Where(a => !string.Equals(a, context.Commenter, StringComparison.OrdinalIgnoreCase) &&
                                                                       !pull.HeadAuthors.Contains(a, StringComparer.OrdinalIgnoreCase)), reviewers))
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, I did not {verb} to {environment}: it needs an approval of the commit by one of " +
                                        $"{string.Join(", ", reviewers.Select(r => ChatCommand.Quote(r, 100)))} (reviewers in {RepositoryConfig.Path}); " +
                                        $"approved by {(approvedBy.Count == 0 ? "nobody" : string.Join(", ", approvedBy.Select(a => "@" + a)))}.");
        }

        // Enforced deployment order: the same commit must have succeeded where this environment requires it first. A noop
        // changes nothing and a rollback restores what ran before: neither is held to it.
        if (!noop && !rollback)
        {
            foreach (var first in DeployPolicy.RequiredBefore(environment, config))
            {
                if (!await ledger.SucceededAsync(context.Repository, first, sha, cancellationToken))
                {
                    return CommandAnswer.Refuse($"@{context.Commenter}, I did not deploy to {environment}: {Short(sha)} has not been deployed to `{first}` " +
                                                $"with success, and {environment} requires it first (`requires` in {RepositoryConfig.Path}). " +
                                                $"Comment `{options.Prefix}deploy to {first}`, then this again.");
                }
            }
        }

        if (byId && !checks.Any(c => checkRules.Counts(c) && c.State == CommitCheck.Success))
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, I did not {verb} to {environment}: no counted check passed on `{sha}` " +
                                        $"({checkRules.Describe()}); a commit is deployed by id only when its own checks ran and passed.");
        }

        if (!rollback && await OutdatedBranches.RefuseAsync(github, conversation.Owner, conversation.Name, context.PullRequest, sha, pull.HeadSha,
                pull.BaseRef, stable, rules.OutdatedMode, rules.UpdateBranch, options.Prefix) is { } outdated)
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, I did not {verb} to {environment}: {outdated}.");
        }

        if (!noop && await environmentLocks.BlockingAsync(context.Repository, environment, context.Commenter, cancellationToken) is { } locked)
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, I did not {verb} to {environment}: {locked.Describe()}. " +
                                        (locked.Sticky ? $"Ask them, or an admin, to `{options.Prefix}unlock{(locked.IsGlobal ? " --global" : $" {environment}")}`."
                                                       : "The lock is released when that deployment ends; comment again then."));
        }

        var forced = false;
        if (!noop && policy.FreezeOn(environment, config, clock.GetUtcNow(), policy.TargetOf(environment, context.Repository, config)) is { } freeze)
        {
            if (ForceRefusal(command, context, environment, config, freeze) is { } notForced)
            {
                return notForced;
            }

            forced = true;
        }

        if (rollback)
        {
            sha = (await github.Repository.Branch.Get(conversation.Owner, conversation.Name, stable)).Commit.Sha;
        }

        var what = rollback ? $"`{stable}` ({Short(sha)})" : $"#{context.PullRequest} ({Short(sha)})";
        var approval = await ledger.FindCommandAsync(context.Repository, environment, context.CommentId, cancellationToken);
        if (approval?.DeploymentId is { } recorded)
        {
            return CommandAnswer.Deferred($"deployment {recorded} exists already; its result is replied when it finishes");
        }

        if (!noop && (rules.Confirms(environment) || policy.TargetOf(environment, context.Repository, config) is { } onTarget && rules.Confirms(onTarget)) &&
            !string.Equals(context.ConfirmedSha, sha, StringComparison.OrdinalIgnoreCase))
        {
            return context.ConfirmedSha is { } confirmed
                ? CommandAnswer.Refuse($"@{context.Commenter}, I did not deploy to {environment}: you confirmed {Short(confirmed)}, and it is {Short(sha)} now " +
                                       "(a push, or the stable branch moved); comment again to deploy what is there now.")
                : CommandAnswer.Confirm($"asked @{context.Commenter} to confirm {what} to {environment}",
                    await QuestionAsync(command, context, conversation, environment, what, sha, pull, checkRules.Summary(checks), cancellationToken), sha);
        }

        // branch-deploy's deploy lock: nobody else deploys here until this deployment ends (then it is released, unless sticky).
        EnvironmentLock? deployLock = null;
        if (!noop)
        {
            var wanted = new EnvironmentLock
            {
                Repository = context.Repository,
                Environment = environment,
                Holder = context.Commenter,
                Reason = command.Text,
                Since = clock.GetUtcNow(),
                Until = options.StickyLocks ? null : clock.GetUtcNow() + DeployLockSafetyNet,
                CommentUrl = context.CommentUrl,
                PullRequest = context.PullRequest,
                Sticky = options.StickyLocks,
            };
            var attempt = await environmentLocks.TryLockAsync(wanted, cancellationToken);
            if (attempt is LockAttempt.AlreadyYours { Lock.Sticky: false } earlier && earlier.Lock.CommentUrl != context.CommentUrl &&
                await environmentLocks.ReleaseAsync(earlier.Lock, cancellationToken))
            {
                // The commenter's own earlier deploy lock: this deployment takes it over, so the earlier one's end leaves it held.
                attempt = await environmentLocks.TryLockAsync(wanted, cancellationToken);
            }

            if (attempt is LockAttempt.HeldByOther other)
            {
                return CommandAnswer.Refuse($"@{context.Commenter}, I did not {verb} to {environment}: {other.Lock.Describe()}.");
            }

            deployLock = (attempt as LockAttempt.Taken)?.Lock;
        }

        var created = false;
        try
        {
            var newDeployment = NewDeployment(command, context, environment, sha, noop, config);
            approval ??= await ledger.ApproveAsync(new LedgerEntry
            {
                Repository = context.Repository,
                Environment = environment,
                Sha = sha,
                Ref = sha,
                BaseBranch = rollback ? stable : pull.BaseRef,
                Source = LedgerSources.Command,
                CommentId = context.CommentId,
                CommentUrl = context.CommentUrl,
                Command = command.Text,
                Noop = noop,
                Forced = forced,
                Rollback = rollback,
                Target = policy.TargetOf(environment, context.Repository, config),
                EnvironmentUrl = DeployPolicy.EnvironmentUrlFor(environment, context.Repository, config),
                Workflow = policy.WorkflowFor(environment, context.Repository, config),
                PullRequest = context.PullRequest,
                RequestedBy = context.Commenter,
                Reason = $"{ChatCommand.Quote(command.Text, ChatCommand.MaxParamsLength + 100)} by @{context.Commenter} on #{context.PullRequest}",
                Order = context.CommentedAt,
                Payload = JsonSerializer.Serialize(newDeployment.Payload),
                DeliveryId = context.DeliveryId,
            }, cancellationToken);

            // Only after a create call whose answer never came back can GitHub hold a deployment of ours the ledger lacks.
            var comment = context.CommentId.ToString(CultureInfo.InvariantCulture);
            if (approval.CreateSentAt is not null &&
                await OwnDeployments.FindAsync(github, clients, context.Repository, sha, environment, d => d.CommentId == comment, cancellationToken) is { } existing)
            {
                await ledger.RecordCreatedAsync(approval, existing, cancellationToken);
                created = true;
                return CommandAnswer.Deferred($"deployment {existing} of {what} to {environment} exists already; recorded");
            }

            approval = await ledger.UpdateApprovalAsync(approval with { CreateSentAt = clock.GetUtcNow() }, cancellationToken);
            Deployment deployment;
            try
            {
                deployment = await github.Repository.Deployment.Create(conversation.Owner, conversation.Name, newDeployment);
            }
            catch (ApiException conflict) when (conflict.StatusCode == HttpStatusCode.Conflict)
            {
                await ledger.UpdateApprovalAsync(approval with { CreateSentAt = null }, cancellationToken); // GitHub created nothing
                return CommandAnswer.Refuse($"@{context.Commenter}, GitHub did not create the deployment of {what} to {environment}: " +
                                            $"{conflict.ApiError?.Message ?? conflict.Message}. Wait for the commit's checks, then comment again.");
            }

            if (deployment is null || deployment.Id == 0)
            {
                await ledger.UpdateApprovalAsync(approval with { CreateSentAt = null }, cancellationToken); // GitHub created nothing
                return CommandAnswer.Refuse($"GitHub created no deployment of {what} to {environment} (it answered 202); comment again.");
            }

            created = true;
            await ledger.RecordCreatedAsync(approval, deployment.Id, cancellationToken);
            return CommandAnswer.Deferred($"created deployment {deployment.Id} of {what} to {environment}{(noop ? " (noop)" : "")}");
        }
        finally
        {
            if (!created && deployLock is not null)
            {
                // Nothing was created (refused, or a failure the delivery retries): the lock would hold the environment for nothing.
                await environmentLocks.ReleaseAsync(deployLock, CancellationToken.None);
            }
        }
    }

    /// <summary>How long a deploy lock lasts at most if the deployment's end is never seen (it is released when it ends).</summary>
    public static readonly TimeSpan DeployLockSafetyNet = TimeSpan.FromHours(6);

    /// <summary>Whether one of <paramref name="approvers"/> is a listed reviewer (a login, or an active member of a listed team).</summary>
    private static async Task<bool> ApprovedByReviewerAsync(IGitHubClient github, IEnumerable<string> approvers, IReadOnlyList<string> reviewers)
    {
        foreach (var approver in approvers)
        {
            if (await Commenters.IsListedAsync(github, approver, reviewers))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Null when <paramref name="sha"/> is in the history of <paramref name="head"/>; else why not (safe to reply).</summary>
    private static async Task<string?> NotInHistoryAsync(PullRequestConversation conversation, string sha, string head)
    {
        try
        {
            var comparison = await conversation.GitHub.Repository.Commit.Compare(conversation.Owner, conversation.Name, sha, head);
            return comparison.BehindBy == 0
                ? null
                : $"`{sha}` is not in the history of #{conversation.Number}'s head {Short(head)} ([compare]({comparison.HtmlUrl})); " +
                  "only a commit the head contains is deployed";
        }
        catch (NotFoundException)
        {
            return $"{conversation.Owner}/{conversation.Name} has no commit `{sha}`";
        }
    }

    /// <summary>What a deployment waiting for confirmation is about: commit, environment, what is live there, checks, approvals.</summary>
    private async Task<string> QuestionAsync(
        ChatCommand command, CommandContext context, PullRequestConversation conversation, string environment, string what, string sha,
        PullRequestFacts pull, string checks, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(options.DeploymentConfirmationTimeoutSeconds);
        var live = await LiveDeployment.FindAsync(ledger, board, context.Repository, environment, cancellationToken);
        var liveLine = "nothing deployed there by this app yet";
        if (live is not null)
        {
            liveLine = $"{Short(live.Sha)} (deployment {live.DeploymentId}{(live.PullRequest is { } number ? $", #{number}" : "")} by @{live.RequestedBy})";
            if (!string.Equals(live.Sha, sha, StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    var comparison = await conversation.GitHub.Repository.Commit.Compare(conversation.Owner, conversation.Name, live.Sha, sha);
                    liveLine += $"; this is {comparison.AheadBy} commit{(comparison.AheadBy == 1 ? "" : "s")} ahead and {comparison.BehindBy} behind it ([compare]({comparison.HtmlUrl}))";
                }
                catch (NotFoundException)
                {
                    liveLine += "; GitHub no longer has that commit, so how far apart they are is not known";
                }
            }
            else
            {
                liveLine += "; the same commit";
            }
        }

        var lines = new List<string>
        {
            $"🔔 @{context.Commenter}, confirm: react 👍 to this comment within {Duration(timeout)} to deploy {what} to **{environment}**, or 👎 to cancel. " +
            "Only your reaction counts.",
            "",
            $"- commit: {sha}",
            $"- environment: {environment}",
            $"- live there now: {liveLine}",
            $"- checks: {checks}",
            $"- approvals: {(pull.ApprovedBy.Count == 0 ? "none" : string.Join(", ", pull.ApprovedBy.Select(a => "@" + a)))}",
        };
        if (command.Params is { } parameters)
        {
            lines.Add($"- parameters: {ChatCommand.Quote(parameters, ChatCommand.MaxParamsLength)}");
        }

        return string.Join('\n', lines);
    }

    private static string Duration(TimeSpan span) =>
        span.TotalMinutes >= 1 && span.Seconds == 0 ? $"{span.TotalMinutes:0} minute{(span.TotalMinutes == 1 ? "" : "s")}" : $"{span.TotalSeconds:0} seconds";

    /// <summary>Null when this <c>--force</c> may override the freeze: asked for, allowed here, and by an admin.</summary>
    private CommandAnswer? ForceRefusal(ChatCommand command, CommandContext context, string environment, RepositoryConfig? config, ActiveFreeze freeze)
    {
        if (!command.Force)
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, I did not deploy to {environment}: {freeze.Describe()}." +
                                        (policy.AllowsForce(environment, config) ? $" An admin can override it with `{options.Prefix}deploy --force`." : ""));
        }

        if (!policy.AllowsForce(environment, config))
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, I did not deploy to {environment}: {freeze.Describe()}, and `--force` is not allowed there " +
                                        $"(Deploy__AllowForce, allow_force in {RepositoryConfig.Path}).");
        }

        return PermissionLevels.AtLeast(context.Permission, PermissionLevels.Admin)
            ? null
            : CommandAnswer.Refuse($"@{context.Commenter}, I did not deploy to {environment}: {freeze.Describe()}; only an admin can `--force` it.");
    }

    private NewDeployment NewDeployment(
        ChatCommand command, CommandContext context, string environment, string sha, bool noop, RepositoryConfig? config)
    {
        var deployment = new NewDeployment(sha)
        {
            Task = noop ? "deploy:noop" : "deploy",
            AutoMerge = false,
            Environment = environment,
            Description = DeploymentMarker.Describe($"{command.Text} by {context.Commenter} on #{context.PullRequest}"),
            Payload = new Dictionary<string, string>
            {
                ["environment"] = environment,
                ["deploy_user"] = context.Commenter,
                ["pull_request"] = context.PullRequest.ToString(CultureInfo.InvariantCulture),
                ["command"] = command.Text,
                ["comment_id"] = context.CommentId.ToString(CultureInfo.InvariantCulture),
                ["comment_url"] = context.CommentUrl,
                ["noop"] = noop ? "true" : "false",
                ["delivery"] = context.DeliveryId,
                [DeploymentMarker.Key] = DeploymentMarker.Value,
            },
        };
        if (command.Params is { } parameters)
        {
            deployment.Payload["params"] = parameters;
        }

        policy.Narrow(deployment, environment, config);
        return deployment;
    }

    private static string Short(string sha) => sha[..Math.Min(7, sha.Length)];
}
