using DeployFunctions.Config;
using DeployFunctions.GitHub;
using DeployFunctions.Policy;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;
using Octokit;
using Octokit.Webhooks.Events.IssueComment;

namespace DeployFunctions.Commands;

/// <summary>
/// A command on a pull request: <c>eyes</c> when taken; the repository's file at its default branch; the commenter's
/// permission and the allow-lists; then the command (<see cref="DeployCommand"/>, <see cref="LockCommands"/>, <c>.help</c>);
/// one reply and <c>rocket</c> or <c>confused</c>. A deploy's reply waits for its result (<see cref="CommandFeedback"/>).
/// Under a lease per comment, and with the reply found by its marker before anything is done, a redelivered command
/// creates nothing and answers nothing twice.
/// </summary>
public sealed class CommandHandler(
    DeployPolicy policy,
    DeployCommand deploys,
    LockCommands locks,
    IGitHubClientFactory clients,
    ILeaseLocks leases,
    IOptions<CommandOptions> commandOptions,
    CommentMarks marks,
    ICommandProgress progress,
    TimeProvider clock,
    ConfigGate? configGate = null,
    Previews.PreviewService? previews = null) : IDeliveryHandler
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

        // The conversation is searched for our reply only when an earlier attempt started and may have posted it: the usual
        // command pays for no search (GitHub's rate limit, not CPU, caps an organization).
        var replyKey = PullRequestConversation.ReplyKey(context.CommentId);
        var stage = await progress.ReadAsync(context.Repository, context.CommentId, cancellationToken);
        if (stage >= CommandStage.Answered)
        {
            return new HandlerOutcome.Completed($"{what} was answered already");
        }

        // Who asks comes first: anyone can comment on a public repository, and someone without the permission commands need gets
        // one reaction and no reply, so strangers can neither make the app write what they like nor spend its limits on replies.
        // A command waiting for its confirmation was asked this already; its permission is looked up again when the 👍 comes.
        if (stage is not CommandStage.Confirming)
        {
            context = context with { Permission = await Commenters.PermissionAsync(github, context.Repository, context.Commenter) };
            if (!PermissionLevels.AtLeast(context.Permission, options.MinimumPermission))
            {
                await conversation.ReactAsync(context.CommentId, ReactionType.Confused);
                return new HandlerOutcome.Skipped(
                    $"{what}: @{context.Commenter} has {context.Permission ?? "no"} permission; commands need {options.MinimumPermission} (reacted, no reply)");
            }
        }

        if (stage is CommandStage.Answering && await conversation.FindAsync(replyKey, context.CommentedAt) is not null)
        {
            await progress.AdvanceAsync(context.Repository, context.CommentId, CommandStage.Answered, cancellationToken);
            return new HandlerOutcome.Completed($"{what} was answered already");
        }

        if (stage is CommandStage.New)
        {
            await progress.AdvanceAsync(context.Repository, context.CommentId, CommandStage.Answering, cancellationToken);
        }

        if (stage is not CommandStage.Confirming)
        {
            await conversation.ReactAsync(context.CommentId, ReactionType.Eyes);
        }

        var answer = command is null
            ? CommandAnswer.Refuse($"I could not read {ChatCommand.Quote(line)}: {problem}. {Help.Short(options.Prefix)}")
            : stage is CommandStage.Confirming
                ? await ConfirmedAsync(command, context, conversation, cancellationToken)
                : await AnswerAsync(command, context, conversation, cancellationToken);
        var poll = TimeSpan.FromSeconds(options.DeploymentConfirmationPollSeconds);
        if (answer is null)
        {
            return new HandlerOutcome.RetryLater(poll, $"{what} waits for @{context.Commenter}'s 👍", IsFault: false);
        }

        if (answer.Confirmation is { } confirmation)
        {
            // Searched for only when an earlier attempt may have asked already (it died before remembering the question, or the
            // question it remembered cannot be read back).
            // The question's key names its commit: one found after a crash is about this commit, never an earlier head.
            var question = await conversation.FindOrPostAsync(PullRequestConversation.ConfirmKey(context.CommentId, confirmation.Sha), context.CommentedAt,
                confirmation.Question, search: stage is CommandStage.Answering or CommandStage.Confirming);
            await progress.ConfirmingAsync(context.Repository, context.CommentId, new PendingConfirmation(question.Id, confirmation.Sha,
                question.CreatedAt + TimeSpan.FromSeconds(options.DeploymentConfirmationTimeoutSeconds)), cancellationToken);
            return new HandlerOutcome.RetryLater(poll, $"{what}: {answer.Summary}", IsFault: false);
        }

        if (answer.Reply is { } reply)
        {
            // No reply exists: none was ever started, or the search above (under this comment's lease) found none.
            await conversation.PostOnceAsync(replyKey, context.CommentedAt, reply, search: stage is CommandStage.Confirming);
            await conversation.ReactAsync(context.CommentId, answer.Reaction);
        }

        await progress.AdvanceAsync(context.Repository, context.CommentId, CommandStage.Answered, cancellationToken);

        return answer.Refused ? new HandlerOutcome.Skipped($"{what}: {answer.Summary}") : new HandlerOutcome.Completed($"{what}: {answer.Summary}");
    }

    /// <summary>
    /// A deployment waiting for confirmation: the commenter's 👎 cancels it, their 👍 runs the command again for the commit
    /// they confirmed (every rule is asked again: time has passed), and the timeout cancels it. Null: still waiting.
    /// </summary>
    private async Task<CommandAnswer?> ConfirmedAsync(
        ChatCommand command, CommandContext context, PullRequestConversation conversation, CancellationToken cancellationToken)
    {
        if (await progress.ReadConfirmationAsync(context.Repository, context.CommentId, cancellationToken) is not { } pending)
        {
            return await AnswerAsync(command, context, conversation, cancellationToken);
        }

        // Only the commenter's reactions, and only those made before the deadline (a late poll still honours a 👍 in time).
        // GitHub's times are whole seconds: a reaction in the deadline's own second is too late.
        var theirs = (await conversation.ReactionsAsync(pending.QuestionId))
            .Where(r => string.Equals(r.Login, context.Commenter, StringComparison.OrdinalIgnoreCase) && r.At < pending.Deadline)
            .Select(r => r.Content)
            .ToList();
        if (theirs.Contains("-1"))
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, cancelled: you reacted 👎 to the confirmation. Nothing was deployed.");
        }

        if (theirs.Contains("+1"))
        {
            context = context with { Permission = await Commenters.PermissionAsync(conversation.GitHub, context.Repository, context.Commenter) };
            return await AnswerAsync(command, context with { ConfirmedSha = pending.Sha }, conversation, cancellationToken);
        }

        return clock.GetUtcNow() >= pending.Deadline
            ? CommandAnswer.Refuse($"@{context.Commenter}, cancelled: no 👍 from you within {options.DeploymentConfirmationTimeoutSeconds:0} seconds " +
                                   $"(Commands__DeploymentConfirmationTimeoutSeconds). Nothing was deployed; comment again to start over.")
            : null;
    }

    public Task OnGiveUpAsync(QueuedDelivery delivery, string reason, CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<CommandAnswer> AnswerAsync(
        ChatCommand command, CommandContext context, PullRequestConversation conversation, CancellationToken cancellationToken)
    {
        // The repository's file at its default branch's head: never a branch the pull request's author chose, nor its head.
        RepositoryConfig? config = null;
        if (configGate is not null)
        {
            switch (await configGate.CheckAsync(conversation.GitHub, context.Repository, context.DefaultBranch, context.DefaultBranch, cancellationToken))
            {
                case ConfigCheck.Refused refused:
                    var head = await conversation.GitHub.Repository.Branch.Get(conversation.Owner, conversation.Name, context.DefaultBranch);
                    await ConfigGate.ReportAsync(conversation.GitHub, context.Repository, head.Commit.Sha, null, refused, context.CommentedAt, marks);
                    return CommandAnswer.Refuse($"@{context.Commenter}, I did not run {ChatCommand.Quote(command.Text, ChatCommand.MaxParamsLength + 100)}: `{RepositoryConfig.Path}` on `{context.DefaultBranch}` cannot be used.\n\n" +
                                                string.Join('\n', refused.Errors.Select(e => $"- {e}")));
                case ConfigCheck.Usable usable:
                    config = usable.Config;
                    break;
            }
        }

        var rules = policy.CommandRulesFor(config);
        if (await WhyNotAllowedAsync(conversation.GitHub, context, rules) is { } notAllowed)
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, I did not run {ChatCommand.Quote(command.Text, ChatCommand.MaxParamsLength + 100)}: {notAllowed}.");
        }

        var environments = policy.EnvironmentsFor(context.Repository, config);
        string? Known(string name) => environments.FirstOrDefault(e => string.Equals(e, name, StringComparison.OrdinalIgnoreCase));
        if (command.Verb is CommandVerb.Deploy or CommandVerb.Noop && Shorthand(command, context, Known) is { } shorthand)
        {
            if (shorthand.Answer is { } ambiguous)
            {
                return ambiguous;
            }

            command = shorthand.Command!;
        }

        if (command.Verb is CommandVerb.Deploy or CommandVerb.Noop && rules.DisableNakedCommands && command.Environment is null)
        {
            var verb = command.Verb == CommandVerb.Noop ? "noop" : "deploy";
            return CommandAnswer.Refuse($"@{context.Commenter}, say where: `{options.Prefix}{verb}{(command.Branch is { } branch ? $" {branch}" : "")} to <environment>` " +
                                        $"(a bare `{options.Prefix}{verb}` is not taken here: Commands__DisableNakedCommands). Environments: {string.Join(", ", environments.Select(e => $"`{e}`"))}.");
        }

        string? environment = null;
        if (command.Environment is { } named)
        {
            environment = Known(named);
            if (environment is null)
            {
                return CommandAnswer.Refuse($"{ChatCommand.Quote(named)} is not an environment this app deploys to. Environments: {string.Join(", ", environments.Select(e => $"`{e}`"))}.");
            }
        }

        if (command.Verb == CommandVerb.Preview)
        {
            return await PreviewAsync(command, context, conversation, cancellationToken);
        }

        return command.Verb switch
        {
            CommandVerb.Deploy or CommandVerb.Noop =>
                await deploys.DeployAsync(command, environment ?? policy.DefaultEnvironmentFor(context.DefaultBranch), context, conversation, config, rules, cancellationToken),
            CommandVerb.Lock when command.Details => await locks.DetailsAsync(context, environment, command.Global, cancellationToken),
            CommandVerb.Lock => await locks.LockAsync(command, context, environment, cancellationToken),
            CommandVerb.Unlock => await locks.UnlockAsync(context, environment, command.Global, cancellationToken),
            CommandVerb.Wcid => await locks.WhatIsDeployingAsync(context, environments, cancellationToken),
            CommandVerb.Help => CommandAnswer.Done("help", Help.Full(options.Prefix, environments, policy.DefaultEnvironmentFor(context.DefaultBranch),
                string.IsNullOrWhiteSpace(options.StableBranch) ? context.DefaultBranch : options.StableBranch, rules,
                policy.ChecksFor(policy.DefaultEnvironmentFor(context.DefaultBranch), config), options.StickyLocks)),
            _ => throw new InvalidOperationException("Unknown command."),
        };
    }

    /// <summary>
    /// <c>.deploy staging</c> means <c>.deploy to staging</c> when <c>staging</c> is an environment and not the stable branch
    /// (branch-deploy's environment targets); a name that is both is refused, with the two spellings that say which. Null:
    /// nothing to resolve.
    /// </summary>
    private (ChatCommand? Command, CommandAnswer? Answer)? Shorthand(ChatCommand command, CommandContext context, Func<string, string?> known)
    {
        if (command.Branch is not { } word || command.Environment is not null || known(word) is not { } environment)
        {
            return null;
        }

        var stable = string.IsNullOrWhiteSpace(options.StableBranch) ? context.DefaultBranch : options.StableBranch;
        if (!string.Equals(word, stable, StringComparison.Ordinal))
        {
            return (command with { Branch = null, Environment = environment }, null);
        }

        var verb = command.Verb == CommandVerb.Noop ? "noop" : "deploy";
        var fallback = policy.DefaultEnvironmentFor(context.DefaultBranch);
        return (null, CommandAnswer.Refuse($"@{context.Commenter}, `{word}` is both the stable branch and an environment: " +
                                           $"`{options.Prefix}{verb} to {environment}` deploys this pull request to it, " +
                                           $"`{options.Prefix}{verb} {word} to {fallback}` rolls `{fallback}` back to `{word}`."));
    }

    /// <summary>
    /// <c>.preview</c>: a writer allows the fork's head they read to deploy to the pull request's preview (every command needs
    /// at least write permission: <c>Commands__MinimumPermission</c> accepts nothing lower, and the file can only raise it). Only that commit, and
    /// only if it is still the head and was pushed before the comment (or is the commit the comment names:
    /// <c>.preview &lt;sha&gt;</c>); a later push needs another <c>.preview</c>.
    /// </summary>
    private async Task<CommandAnswer> PreviewAsync(
        ChatCommand command, CommandContext context, PullRequestConversation conversation, CancellationToken cancellationToken)
    {
        if (previews is not { Enabled: true })
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, previews are off in this app (Previews__Enabled).");
        }

        var pull = await conversation.GitHub.PullRequest.Get(conversation.Owner, conversation.Name, (int)context.PullRequest);
        if (pull.State.Value != ItemState.Open)
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, this pull request is closed: it has no preview.");
        }

        if (string.Equals(pull.Head.Repository?.FullName, context.Repository, StringComparison.OrdinalIgnoreCase))
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, this pull request's branch is in {context.Repository}: its preview deploys by itself on every push; there is nothing to allow.");
        }

        var sha = pull.Head.Sha;
        if (command.Sha is { } named && !string.Equals(named, sha, StringComparison.OrdinalIgnoreCase))
        {
            return CommandAnswer.Refuse($"@{context.Commenter}, nothing was deployed: the head is `{sha[..7]}` now, not `{named[..7]}`, the commit you named.");
        }

        var head = new Previews.PreviewHead
        {
            Repository = context.Repository,
            DefaultBranch = context.DefaultBranch,
            Number = context.PullRequest,
            HeadSha = sha,
            FromFork = true,
            At = context.CommentedAt,
            By = context.Commenter,
            Allowed = true,
            DeliveryId = context.DeliveryId,
        };
        var outcome = await previews.OnceMoreIfBusyAsync(() => previews.HeadAsync(head, cancellationToken), cancellationToken);
        return outcome is HandlerOutcome.Completed
            ? CommandAnswer.Done($"preview of {sha[..7]} allowed",
                $"🔍 @{context.Commenter} allowed `{sha[..7]}` from the fork to deploy to this pull request's preview; the preview's comment shows how it goes. " +
                $"Only this commit: a later push waits for another `{options.Prefix}preview`.")
            : CommandAnswer.Refuse($"@{context.Commenter}, nothing was deployed: {outcome.Reason}.");
    }

    /// <summary>Permission on the repository (GitHub's <c>role_name</c>) and every allow-list; null when allowed.</summary>
    private static async Task<string?> WhyNotAllowedAsync(IGitHubClient github, CommandContext context, CommandRules rules)
    {
        if (!PermissionLevels.AtLeast(context.Permission, rules.MinimumPermission))
        {
            return $"you have {context.Permission ?? "no"} permission on {context.Repository}; commands need {rules.MinimumPermission}";
        }

        foreach (var list in rules.AllowLists)
        {
            if (!await Commenters.IsListedAsync(github, context.Commenter, list))
            {
                return "you are not in this app's list of people who may run commands";
            }
        }

        return null;
    }
}
