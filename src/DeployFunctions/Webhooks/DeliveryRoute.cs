namespace DeployFunctions.Webhooks;

/// <summary>The queues the ingress feeds; each has its own queue-triggered function.</summary>
public enum DeliveryQueueKind
{
    PullRequests,
    Deployments,
    DeploymentStatuses,
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

    /// <summary>Goes to the queue of its event.</summary>
    public sealed record Queued(DeliveryQueueKind Queue) : DeliveryRoute;

    /// <summary>
    /// The routing rules: merged pull requests, created deployments and created deployment statuses are queued;
    /// everything else is ignored with a reason.
    /// </summary>
    public static DeliveryRoute For(string eventName, PayloadSummary payload)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        ArgumentNullException.ThrowIfNull(payload);

        return eventName switch
        {
            "ping" => new Pong(payload.HookId),
            "pull_request" => ForPullRequest(payload),
            "deployment" => ForCreated(eventName, payload, DeliveryQueueKind.Deployments),
            "deployment_status" => ForCreated(eventName, payload, DeliveryQueueKind.DeploymentStatuses),
            _ => new Ignored($"event '{eventName}' is not handled (only pull_request, deployment and deployment_status are)"),
        };
    }

    private static DeliveryRoute ForPullRequest(PayloadSummary payload)
    {
        if (payload.Action != "closed")
        {
            return new Ignored($"pull_request action '{payload.Action}' is not handled (only 'closed' with merged=true is)");
        }

        return payload.PullRequestMerged == true
            ? new Queued(DeliveryQueueKind.PullRequests)
            : new Ignored($"pull request #{payload.PullRequestNumber} was closed without merging");
    }

    private static DeliveryRoute ForCreated(string eventName, PayloadSummary payload, DeliveryQueueKind queue) =>
        payload.Action == "created"
            ? new Queued(queue)
            : new Ignored($"{eventName} action '{payload.Action}' is not handled (only 'created' is)");
}
