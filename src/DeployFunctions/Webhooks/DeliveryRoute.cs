namespace DeployFunctions.Webhooks;

/// <summary>The queues the ingress feeds; each has its own queue-triggered function.</summary>
public enum DeliveryQueueKind
{
    PullRequests,
    Deployments,
    DeploymentStatuses,
    Commands,
    ProtectionRules,

    /// <summary>Pull requests opened, pushed to, reopened or closed: their preview environments (<c>Previews__Enabled</c>).</summary>
    Previews,
}

/// <summary>What the ingress does with an authenticated, well-formed delivery.</summary>
public abstract record DeliveryRoute
{
    private DeliveryRoute()
    {
    }

    /// <summary>GitHub's <c>ping</c> when a hook is created: answered, never queued.</summary>
    public sealed record Pong(long? HookId) : DeliveryRoute;

    /// <summary>Authentic but not ours to act on; the reason is shown to the user in Recent Deliveries.</summary>
    public sealed record Ignored(string Reason) : DeliveryRoute;

    /// <summary>
    /// Goes to the queue of its event, and to <paramref name="Also"/> when a second handler acts on it too (a merged pull
    /// request deploys and, with previews on, tears its preview down).
    /// </summary>
    public sealed record Queued(DeliveryQueueKind Queue, DeliveryQueueKind? Also = null) : DeliveryRoute;

    /// <summary>
    /// The routing rules: merged pull requests, created deployments and created deployment statuses are queued, and so
    /// are new pull request comments by people whose first line is a command (<paramref name="commandPrefix"/>; null:
    /// commands are off), pull requests closed without merging when their locks are released then
    /// (<paramref name="unlockOnClose"/>, <c>Commands__UnlockOnMerge</c>), protection rule requests, and completed runs of dispatched workflows (with the deployments: a run
    /// the app dispatched settles its deployment); with <paramref name="previews"/> on, pull requests opened, reopened, pushed to
    /// (<c>synchronize</c>) and closed go to the previews' queue (a merged one to both); everything else is ignored with a reason.
    /// </summary>
    public static DeliveryRoute For(string eventName, PayloadSummary payload, string? commandPrefix = null, bool unlockOnClose = false, bool previews = false)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        ArgumentNullException.ThrowIfNull(payload);

        return eventName switch
        {
            "ping" => new Pong(payload.HookId),
            "pull_request" => ForPullRequest(payload, unlockOnClose, previews),
            "deployment" => ForCreated(eventName, payload, DeliveryQueueKind.Deployments),
            "deployment_status" => ForCreated(eventName, payload, DeliveryQueueKind.DeploymentStatuses),
            "issue_comment" => ForComment(payload, commandPrefix),
            "workflow_run" => payload.Action == "completed" && payload.WorkflowRunEvent == "workflow_dispatch"
                ? new Queued(DeliveryQueueKind.Deployments)
                : new Ignored($"workflow_run '{payload.Action}' of a {payload.WorkflowRunEvent ?? "unknown"} run is not handled (only completed runs of workflow_dispatch, which the app starts, are)"),
            "deployment_protection_rule" => payload.Action == "requested"
                ? new Queued(DeliveryQueueKind.ProtectionRules)
                : new Ignored($"deployment_protection_rule action '{payload.Action}' is not handled (only 'requested' is)"),
            _ => new Ignored($"event '{eventName}' is not handled (only pull_request, deployment, deployment_status, issue_comment, workflow_run and deployment_protection_rule are)"),
        };
    }

    private static DeliveryRoute ForPullRequest(PayloadSummary payload, bool unlockOnClose, bool previews)
    {
        if (previews && payload.Action is "opened" or "reopened" or "synchronize")
        {
            return new Queued(DeliveryQueueKind.Previews);
        }

        if (payload.Action != "closed")
        {
            return new Ignored(previews
                ? $"pull_request action '{payload.Action}' is not handled (only opened, reopened, synchronize and closed are)"
                : $"pull_request action '{payload.Action}' is not handled (only 'closed' with merged=true is)");
        }

        if (payload.PullRequestMerged == true || unlockOnClose)
        {
            return new Queued(DeliveryQueueKind.PullRequests, previews ? DeliveryQueueKind.Previews : null);
        }

        return previews
            ? new Queued(DeliveryQueueKind.Previews)
            : new Ignored($"pull request #{payload.PullRequestNumber} was closed without merging");
    }

    private static DeliveryRoute ForComment(PayloadSummary payload, string? prefix)
    {
        if (prefix is null)
        {
            return new Ignored("chat commands are off (Commands__Enabled)");
        }

        if (payload.Action != "created")
        {
            return new Ignored($"issue_comment action '{payload.Action}' is not handled (only new comments are commands)");
        }

        if (!payload.IssueIsPullRequest)
        {
            return new Ignored($"the comment is on issue #{payload.IssueNumber}, not a pull request");
        }

        if (string.Equals(payload.CommentUserType, "Bot", StringComparison.OrdinalIgnoreCase))
        {
            return new Ignored($"the comment is by the bot {payload.CommentUserLogin}; bots never give commands");
        }

        return payload.CommentFirstLine is { } line && Commands.ChatCommand.IsCommand(line, prefix)
            ? new Queued(DeliveryQueueKind.Commands)
            : new Ignored($"the comment's first line is not a command ({prefix}deploy, {prefix}noop, {prefix}lock, {prefix}unlock, {prefix}wcid, {prefix}preview, {prefix}help)");
    }

    private static DeliveryRoute ForCreated(string eventName, PayloadSummary payload, DeliveryQueueKind queue) =>
        payload.Action == "created"
            ? new Queued(queue)
            : new Ignored($"{eventName} action '{payload.Action}' is not handled (only 'created' is)");
}
