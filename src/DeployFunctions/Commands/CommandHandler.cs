using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DeployFunctions.Config;
using DeployFunctions.Deployments;
using DeployFunctions.GitHub;
using DeployFunctions.Ledger;
using DeployFunctions.Policy;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;
using Octokit;
using Octokit.Webhooks.Events.IssueComment;

namespace DeployFunctions.Commands;

/// <summary>
/// A command on a pull request: <c>eyes</c> when taken; the commenter's permission; then the command, asking the same
/// policy and locks as every other deploy path; one reply and <c>rocket</c> or <c>confused</c>. A deploy's reply waits for
/// its result (<see cref="CommandFeedback"/>). Under a lease per comment, and with the reply found by its marker before
/// anything is done, a redelivered command creates nothing and answers nothing twice.
/// </summary>
public sealed class CommandHandler(
    DeployPolicy policy,
    IDeploymentLedger ledger,
    IEnvironmentLocks environmentLocks,
    IGitHubClientFactory clients,
    ILeaseLocks leases,
    IOptions<CommandOptions> commandOptions,
    TimeProvider clock,
    CommentMarks marks,
    ConfigGate? configGate = null) : IDeliveryHandler
{
    private readonly CommandOptions options = commandOptions.Value;

    public bool CallsGitHub => true;

    public DeliveryQueueKind Queue => DeliveryQueueKind.Commands;

    public async Task<HandlerOutcome> HandleAsync(QueuedDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var created = delivery.Read<IssueCommentCreatedEvent>();
        var comment = created.Comment ?? throw new InvalidDataException("The payload has no comment.");
        var issue = created.Issue ?? throw new InvalidDataException("The payload has no issue.");
        var repository = created.Repository ?? throw new InvalidDataException("The payload has no repository.");
        if (issue.PullRequest is null || string.Equals(comment.User.Type.StringValue, "Bot", StringComparison.OrdinalIgnoreCase))
        {
            return new HandlerOutcome.Skipped("not a person's comment on a pull request");
        }

        var line = ChatCommand.FirstLine(comment.Body ?? "");
        var command = ChatCommand.Parse(line, options.Prefix, out var problem);
        var context = new CommandContext
        {
            Repository = repository.FullName,
            DefaultBranch = repository.DefaultBranch ?? "main",
            PullRequest = issue.Number,
            CommentId = comment.Id,
            CommentUrl = comment.HtmlUrl ?? "",
            CommentedAt = comment.CreatedAt,
            Commenter = comment.User.Login,
            DeliveryId = delivery.Envelope.DeliveryId,
        };
        var what = $"'{line}' by @{context.Commenter} on {context.Repository}#{context.PullRequest}";

        await using var held = await leases.TryAcquireAsync(LockKeys.Comment(context.Repository, context.CommentId), cancellationToken);
        if (held is null)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(1), $"{what} is being handled by another delivery", IsFault: false);
        }

        var github = await clients.CreateAsync(delivery.Envelope.InstallationId, context.Repository, cancellationToken);
        var conversation = new PullRequestConversation(github, context.Repository, context.PullRequest, marks);
        var replyKey = PullRequestConversation.ReplyKey(context.CommentId);
        if (await conversation.FindAsync(replyKey, context.CommentedAt) is not null)
        {
            return new HandlerOutcome.Completed($"{what} was answered already");
        }

        await conversation.ReactAsync(context.CommentId, ReactionType.Eyes);

        var answer = command is null
            ? Refuse($"I could not read `{line}`: {problem}. {Help.Short(options.Prefix)}")
            : await AnswerAsync(command, context, conversation, cancellationToken);

        if (answer.Reply is { } reply)
        {
            await conversation.PostOnceAsync(replyKey, context.CommentedAt, reply);
            await conversation.ReactAsync(context.CommentId, answer.Reaction);
        }

        return answer.Refused ? new HandlerOutcome.Skipped($"{what}: {answer.Summary}") : new HandlerOutcome.Completed($"{what}: {answer.Summary}");
    }

    public Task OnGiveUpAsync(QueuedDelivery delivery, string reason, CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<Answer> AnswerAsync(
        ChatCommand command, CommandContext context, PullRequestConversation conversation, CancellationToken cancellationToken)
    {
        // The repository's file at the base branch's head: never the pull request's own copy, which it could edit.
        var pull = await conversation.GitHub.PullRequest.Get(conversation.Owner, conversation.Name, (int)context.PullRequest);
        RepositoryConfig? config = null;
        if (configGate is not null)
        {
            switch (await configGate.CheckAsync(conversation.GitHub, context.Repository, pull.Base.Ref, context.DefaultBranch, cancellationToken))
            {
                case ConfigCheck.Refused refused:
                    await ConfigGate.ReportAsync(conversation.GitHub, context.Repository, pull.Base.Sha, null, refused, context.CommentedAt, marks);
                    return Refuse($"@{context.Commenter}, I did not run `{command.Text}`: `{RepositoryConfig.Path}` on `{pull.Base.Ref}` cannot be used.\n\n" +
                                  string.Join('\n', refused.Errors.Select(e => $"- {e}")));
                case ConfigCheck.Usable usable:
                    config = usable.Config;
                    break;
            }
        }

        var rules = policy.CommandRulesFor(config);
        context = context with { Permission = await PermissionAsync(conversation, context.Commenter) };
        if (await WhyNotAllowedAsync(conversation, context, rules) is { } notAllowed)
        {
            return Refuse($"@{context.Commenter}, I did not run `{command.Text}`: {notAllowed}.");
        }

        string? environment = null;
        if (command.Environment is { } named)
        {
            environment = policy.KnownEnvironment(named);
            if (environment is null)
            {
                return Refuse($"`{named}` is not an environment this app deploys to. Environments: {string.Join(", ", policy.Environments.Select(e => $"`{e}`"))}.");
            }
        }

        return command.Verb switch
        {
            CommandVerb.Deploy or CommandVerb.Noop =>
                await DeployAsync(command, environment ?? policy.DefaultEnvironmentFor(context.DefaultBranch), context, conversation, pull, config, rules, cancellationToken),
            CommandVerb.Lock when command.Details => await LockDetailsAsync(context, environment, command.Global, cancellationToken),
            CommandVerb.Lock => await LockAsync(command, context, environment, cancellationToken),
            CommandVerb.Unlock => await UnlockAsync(context, conversation, environment, command.Global, cancellationToken),
            CommandVerb.Wcid => await WhatIsDeployingAsync(context, cancellationToken),
            CommandVerb.Help => Done("help", Help.Full(options.Prefix, policy.Environments, policy.DefaultEnvironmentFor(context.DefaultBranch),
                options.StableBranch ?? context.DefaultBranch)),
            _ => throw new InvalidOperationException("Unknown command."),
        };
    }

    /// <summary>Permission on the repository (GitHub's <c>role_name</c>) and the allow-list; null when allowed.</summary>
    private static async Task<string?> WhyNotAllowedAsync(PullRequestConversation conversation, CommandContext context, CommandRules rules)
    {
        if (!PermissionLevels.AtLeast(context.Permission, rules.MinimumPermission))
        {
            return $"you have {context.Permission ?? "no"} permission on {context.Repository}; commands need {rules.MinimumPermission}";
        }

        foreach (var list in rules.AllowLists)
        {
            if (!await IsAllowedAsync(conversation, context.Commenter, list))
            {
                return "you are not in this app's list of people who may run commands";
            }
        }

        return null;
    }

    private async Task<Answer> DeployAsync(
        ChatCommand command, string environment, CommandContext context, PullRequestConversation conversation, PullRequest pull,
        RepositoryConfig? config, CommandRules rules, CancellationToken cancellationToken)
    {
        var noop = command.Verb == CommandVerb.Noop;
        var verb = noop ? "noop" : "deploy";
        var github = conversation.GitHub;
        var stable = string.IsNullOrWhiteSpace(options.StableBranch) ? context.DefaultBranch : options.StableBranch;
        var rollback = command.Branch is not null;
        if (rollback && !string.Equals(command.Branch, stable, StringComparison.Ordinal))
        {
            return Refuse($"`{command.Branch}` is not the stable branch `{stable}`: `{options.Prefix}{verb} {stable}` rolls back to it, " +
                          $"`{options.Prefix}{verb} to <environment>` deploys this pull request.");
        }

        var headRepository = pull.Head?.Repository?.FullName;
        var (approvals, changesRequested) = rollback || noop || !rules.RequireApproval
            ? (0, (IReadOnlyList<string>)[])
            : await ReviewsAsync(conversation, pull, pull.Head!.Sha);
        var refusal = policy.RefuseCommand(new CommandFacts
        {
            Repository = context.Repository,
            PullRequest = context.PullRequest,
            PullRequestOpen = pull.State.Value == ItemState.Open,
            FromFork = !string.Equals(headRepository, context.Repository, StringComparison.OrdinalIgnoreCase),
            HeadRepository = headRepository ?? "a deleted repository",
            Approvals = approvals,
            ChangesRequestedBy = changesRequested,
            Rollback = rollback,
            Noop = noop,
        }, rules);
        if (refusal is not null)
        {
            return Refuse($"@{context.Commenter}, I did not {verb} to {environment}: {refusal}.");
        }

        if (!noop && await environmentLocks.BlockingAsync(context.Repository, environment, context.Commenter, cancellationToken) is { } locked)
        {
            return Refuse($"@{context.Commenter}, I did not {verb} to {environment}: {locked.Describe()}. " +
                          $"Ask them, or an admin, to `{options.Prefix}unlock{(locked.IsGlobal ? " --global" : $" {environment}")}`.");
        }

        var forced = false;
        if (!noop && policy.FreezeOn(environment, config, clock.GetUtcNow()) is { } freeze)
        {
            if (!command.Force)
            {
                return Refuse($"@{context.Commenter}, I did not deploy to {environment}: {freeze.Describe()}." +
                              (policy.AllowsForce(environment, config) ? $" An admin can override it with `{options.Prefix}deploy --force`." : ""));
            }

            if (!policy.AllowsForce(environment, config))
            {
                return Refuse($"@{context.Commenter}, I did not deploy to {environment}: {freeze.Describe()}, and `--force` is not allowed there " +
                              $"(Deploy__AllowForce, allow_force in {RepositoryConfig.Path}).");
            }

            if (!PermissionLevels.AtLeast(context.Permission, PermissionLevels.Admin))
            {
                return Refuse($"@{context.Commenter}, I did not deploy to {environment}: {freeze.Describe()}; only an admin can `--force` it.");
            }

            forced = true;
        }

        var sha = rollback ? (await github.Repository.Branch.Get(conversation.Owner, conversation.Name, stable)).Commit.Sha : pull.Head!.Sha;
        var what = rollback ? $"`{stable}` ({Short(sha)})" : $"#{context.PullRequest} ({Short(sha)})";
        var approval = await ledger.FindCommandAsync(context.Repository, environment, context.CommentId, cancellationToken);
        if (approval?.DeploymentId is { } recorded)
        {
            return Deferred($"deployment {recorded} exists already; its result is replied when it finishes");
        }

        var deployment = NewDeployment(command, context, environment, sha, noop, config);
        approval ??= await ledger.ApproveAsync(new LedgerEntry
        {
            Repository = context.Repository,
            Environment = environment,
            Sha = sha,
            Ref = sha,
            // A dispatched workflow runs from the base branch, never from the pull request's own (possibly edited) files.
            BaseBranch = rollback ? stable : pull.Base.Ref,
            Source = LedgerSources.Command,
            CommentId = context.CommentId,
            CommentUrl = context.CommentUrl,
            Command = command.Text,
            Noop = noop,
            Forced = forced,
            PullRequest = context.PullRequest,
            RequestedBy = context.Commenter,
            Reason = $"`{command.Text}` by @{context.Commenter} on #{context.PullRequest}",
            Order = context.CommentedAt,
            Payload = JsonSerializer.Serialize(deployment.Payload),
            DeliveryId = context.DeliveryId,
        }, cancellationToken);

        if (await FindExistingAsync(conversation, sha, environment, context.CommentId) is { } existing)
        {
            await ledger.RecordCreatedAsync(approval, existing, cancellationToken);
            return Deferred($"deployment {existing} of {what} to {environment} exists already; recorded");
        }

        Deployment created;
        try
        {
            created = await github.Repository.Deployment.Create(conversation.Owner, conversation.Name, deployment);
        }
        catch (ApiException conflict) when (conflict.StatusCode == HttpStatusCode.Conflict)
        {
            return Refuse($"@{context.Commenter}, GitHub did not create the deployment of {what} to {environment}: " +
                          $"{conflict.ApiError?.Message ?? conflict.Message}. Wait for the commit's checks, then comment again.");
        }

        if (created is null || created.Id == 0)
        {
            return Refuse($"GitHub created no deployment of {what} to {environment} (it answered 202); comment again.");
        }

        await ledger.RecordCreatedAsync(approval, created.Id, cancellationToken);
        return Deferred($"created deployment {created.Id} of {what} to {environment}{(noop ? " (noop)" : "")}");
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
        policy.Narrow(deployment, environment, config);
        return deployment;
    }

    private async Task<Answer> LockAsync(ChatCommand command, CommandContext context, string? environment, CancellationToken cancellationToken)
    {
        var scope = command.Global ? null : environment ?? policy.DefaultEnvironmentFor(context.DefaultBranch);
        var attempt = await environmentLocks.TryLockAsync(new EnvironmentLock
        {
            Repository = context.Repository,
            Environment = scope,
            Holder = context.Commenter,
            Reason = command.Reason,
            Since = clock.GetUtcNow(),
            CommentUrl = context.CommentUrl,
            PullRequest = context.PullRequest,
        }, cancellationToken);
        var unlock = $"`{options.Prefix}unlock{(scope is null ? " --global" : $" {scope}")}`";
        return attempt switch
        {
            LockAttempt.Taken taken => Done($"locked {taken.Lock.Scope}",
                $"🔒 Locked {taken.Lock.Scope} for @{context.Commenter}{(command.Reason is { } r ? $" (reason: {r})" : "")}. " +
                $"Until {unlock}, nobody else can deploy there, and merges wait. {Help.LockTip(options.Prefix)}"),
            LockAttempt.AlreadyYours mine => Done($"{mine.Lock.Scope} was locked by the commenter already",
                $"🔒 You hold this lock already: {mine.Lock.Describe()}."),
            LockAttempt.HeldByOther other => Refuse($"@{context.Commenter}, I did not lock: {other.Lock.Describe()}."),
            _ => throw new InvalidOperationException("Unknown lock attempt."),
        };
    }

    private async Task<Answer> UnlockAsync(
        CommandContext context, PullRequestConversation conversation, string? environment, bool global, CancellationToken cancellationToken)
    {
        var scope = global ? null : environment ?? policy.DefaultEnvironmentFor(context.DefaultBranch);
        var held = await environmentLocks.GetAsync(context.Repository, scope, cancellationToken);
        if (held is null)
        {
            return Done("nothing to unlock", $"🔓 {scope ?? "The global lock"} is not locked; nothing to do.");
        }

        var how = "as its holder";
        if (!held.IsHeldBy(context.Commenter))
        {
            if (!PermissionLevels.AtLeast(context.Permission, PermissionLevels.Admin))
            {
                return Refuse($"@{context.Commenter}, I did not unlock: {held.Describe()}; only they or an admin can unlock it.");
            }

            how = $"as an admin, overriding @{held.Holder}";
        }

        return await environmentLocks.ReleaseAsync(held, cancellationToken)
            ? Done($"unlocked {held.Scope}", $"🔓 Unlocked {held.Scope} ({how}). Waiting merges go ahead.")
            : Refuse("The lock changed while I was releasing it; look with `" + options.Prefix + "lock --details` and try again.");
    }

    private async Task<Answer> LockDetailsAsync(CommandContext context, string? environment, bool global, CancellationToken cancellationToken)
    {
        var scope = global ? null : environment ?? policy.DefaultEnvironmentFor(context.DefaultBranch);
        var held = await environmentLocks.GetAsync(context.Repository, scope, cancellationToken);
        return Done("lock details", held is null
            ? $"🔓 {scope ?? "The global lock"} is not locked."
            : $"🔒 {held.Describe()}.");
    }

    private async Task<Answer> WhatIsDeployingAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var locks = await environmentLocks.ListAsync(context.Repository, cancellationToken);
        var text = new StringBuilder("| environment | lock | deploying now |\n|---|---|---|\n");
        var global = locks.FirstOrDefault(l => l.IsGlobal);
        foreach (var environment in policy.Environments)
        {
            var held = locks.FirstOrDefault(l => string.Equals(l.Environment, environment, StringComparison.OrdinalIgnoreCase)) ?? global;
            var running = await ledger.RunningAsync(context.Repository, environment, cancellationToken)
                          ?? await ledger.AwaitingReportAsync(context.Repository, environment, cancellationToken);
            text.Append(CultureInfo.InvariantCulture,
                $"| `{environment}` | {(held is null ? "free" : $"🔒 @{held.Holder}{(held.IsGlobal ? " (global)" : "")} since {held.Since:yyyy-MM-dd HH:mm} UTC{(held.Reason is { } r ? $": {r}" : "")}")} | ");
            text.Append(running is null
                ? "nothing"
                : $"deployment {running.DeploymentId} of {Short(running.Sha)} by @{running.RequestedBy} ({running.State.ToString().ToLowerInvariant()})");
            text.Append(" |\n");
        }

        return Done("what is deploying", text.ToString());
    }

    /// <summary>
    /// Reviewers whose latest review approves the head commit itself (an approval of an earlier commit does not cover
    /// what was pushed after it), and reviewers whose latest review requests changes.
    /// </summary>
    private static async Task<(int Approvals, IReadOnlyList<string> ChangesRequested)> ReviewsAsync(
        PullRequestConversation conversation, PullRequest pull, string headSha)
    {
        var reviews = await conversation.GitHub.PullRequest.Review.GetAll(conversation.Owner, conversation.Name, pull.Number,
            new ApiOptions { PageSize = 100 });
        // Each reviewer's latest approving or change-requesting review counts; comments and dismissals do not change it.
        var latest = reviews
            .Where(r => r.User is not null && r.State.StringValue is "APPROVED" or "CHANGES_REQUESTED" or "DISMISSED")
            .GroupBy(r => r.User.Login, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.OrderBy(r => r.SubmittedAt).Last())
            .ToList();
        return (latest.Count(r => r.State.StringValue == "APPROVED" && string.Equals(r.CommitId, headSha, StringComparison.OrdinalIgnoreCase)),
            [.. latest.Where(r => r.State.StringValue == "CHANGES_REQUESTED").Select(r => r.User.Login)]);
    }

    /// <summary>GitHub's <c>role_name</c> (which knows maintain and triage), else <c>permission</c>; null when not a collaborator.</summary>
    private static async Task<string?> PermissionAsync(PullRequestConversation conversation, string login)
    {
        var api = new ApiConnection(conversation.GitHub.Connection);
        try
        {
            var answer = await api.Get<CollaboratorPermission>(new Uri(
                $"repos/{Uri.EscapeDataString(conversation.Owner)}/{Uri.EscapeDataString(conversation.Name)}/collaborators/{Uri.EscapeDataString(login)}/permission",
                UriKind.Relative));
            return answer.RoleName ?? answer.Permission;
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    private static async Task<bool> IsAllowedAsync(PullRequestConversation conversation, string login, IReadOnlyList<string> allowed)
    {
        if (allowed.Count == 0 || allowed.Any(entry => !entry.Contains('/', StringComparison.Ordinal) &&
                                                       string.Equals(entry.TrimStart('@'), login, StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        var api = new ApiConnection(conversation.GitHub.Connection);
        foreach (var team in allowed.Where(entry => entry.Contains('/', StringComparison.Ordinal)))
        {
            var (org, slug) = GitHubNames.Split(team.TrimStart('@'));
            try
            {
                var membership = await api.Get<TeamMembershipAnswer>(new Uri(
                    $"orgs/{Uri.EscapeDataString(org)}/teams/{Uri.EscapeDataString(slug)}/memberships/{Uri.EscapeDataString(login)}", UriKind.Relative));
                if (membership.State == "active")
                {
                    return true;
                }
            }
            catch (NotFoundException)
            {
                // Not a member of this team.
            }
        }

        return false;
    }

    /// <summary>A deployment GitHub has for this command (its answer to the create was lost), found by the comment id in its payload.</summary>
    private static async Task<long?> FindExistingAsync(PullRequestConversation conversation, string sha, string environment, long commentId)
    {
        var api = new ApiConnection(conversation.GitHub.Connection);
        var found = await api.Get<List<ListedDeployment>>(new Uri(
            $"repos/{Uri.EscapeDataString(conversation.Owner)}/{Uri.EscapeDataString(conversation.Name)}/deployments", UriKind.Relative),
            new Dictionary<string, string> { ["sha"] = sha, ["environment"] = environment, ["per_page"] = "100" });
        var id = commentId.ToString(CultureInfo.InvariantCulture);
        return found?.Where(d => d.CommentId == id).OrderBy(d => d.Id).FirstOrDefault()?.Id;
    }

    private static Answer Done(string summary, string reply) => new(summary, ReactionType.Rocket, reply, Refused: false);

    private static Answer Refuse(string reply) => new(reply, ReactionType.Confused, reply, Refused: true);

    private static Answer Deferred(string summary) => new(summary, ReactionType.Eyes, null, Refused: false);

    private static string Short(string sha) => sha[..Math.Min(7, sha.Length)];

    /// <summary>The reply (null: the deployment's result replies later) and the reaction that goes with it.</summary>
    private sealed record Answer(string Summary, ReactionType Reaction, string? Reply, bool Refused);

    private sealed record CommandContext
    {
        public required string Repository { get; init; }
        public required string DefaultBranch { get; init; }
        public required long PullRequest { get; init; }
        public required long CommentId { get; init; }
        public required string CommentUrl { get; init; }
        public required DateTimeOffset CommentedAt { get; init; }
        public required string Commenter { get; init; }
        public required string DeliveryId { get; init; }

        /// <summary>The commenter's repository permission (<c>role_name</c>), looked up once per command; null: not a collaborator.</summary>
        public string? Permission { get; init; }
    }

    private sealed class CollaboratorPermission
    {
        public string? Permission { get; set; }
        public string? RoleName { get; set; }
    }

    private sealed class TeamMembershipAnswer
    {
        public string? State { get; set; }
    }
}
