using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Octokit.Webhooks.Events;
using Octokit.Webhooks.Events.PullRequest;

namespace DeployFunctions.Previews;

/// <summary>
/// The previews' queue: a pull request opened, reopened or pushed to (<c>synchronize</c>) deploys its head to its preview;
/// closed (merged or not) removes it. The ingress queues these only when <c>Previews__Enabled</c>.
/// </summary>
public sealed class PreviewHandler(PreviewService previews) : IDeliveryHandler
{
    public bool CallsGitHub => true;

    public DeliveryQueueKind Queue => DeliveryQueueKind.Previews;

    public async Task<HandlerOutcome> HandleAsync(QueuedDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        // Each action's own type: each requires its own fields (synchronize's before and after).
        PullRequestEvent pushed = delivery.Envelope.Action switch
        {
            "closed" => delivery.Read<PullRequestClosedEvent>(),
            "synchronize" => delivery.Read<PullRequestSynchronizeEvent>(),
            "reopened" => delivery.Read<PullRequestReopenedEvent>(),
            _ => delivery.Read<PullRequestOpenedEvent>(),
        };
        var pull = pushed.PullRequest ?? throw new InvalidDataException("The payload has no pull_request.");
        var repository = pushed.Repository ?? throw new InvalidDataException("The payload has no repository.");
        if (delivery.Envelope.Action == "closed")
        {
            return await previews.RemoveAsync(repository.FullName, pull.Number,
                pull.Merged == true ? "the pull request was merged" : "the pull request was closed", pull.ClosedAt ?? delivery.Envelope.ReceivedAt,
                delivery.Envelope.InstallationId, cancellationToken);
        }

        // A head whose repository was deleted is not the base's: treated as a fork's.
        var fromFork = !string.Equals(pull.Head?.Repo?.FullName, repository.FullName, StringComparison.OrdinalIgnoreCase);
        return await previews.HeadAsync(new PreviewHead
        {
            Repository = repository.FullName,
            DefaultBranch = repository.DefaultBranch ?? "main",
            Number = pull.Number,
            HeadSha = pull.Head?.Sha ?? throw new InvalidDataException("The payload's pull request has no head."),
            FromFork = fromFork,
            At = pull.UpdatedAt,
            By = pushed.Sender?.Login ?? pull.User?.Login ?? "unknown",
            InstallationId = delivery.Envelope.InstallationId,
            DeliveryId = delivery.Envelope.DeliveryId,
        }, cancellationToken);
    }

    public Task OnGiveUpAsync(QueuedDelivery delivery, string reason, CancellationToken cancellationToken) => Task.CompletedTask;
}
