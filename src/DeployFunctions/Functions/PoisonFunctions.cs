using DeployFunctions.Maintenance;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace DeployFunctions.Functions;

/// <summary>
/// The operator's look at the poison queues and the replay after a fix, behind the host's master key (admin level):
/// <c>GET /api/deliveries/poison</c> lists every poisoned message with its delivery id and reason;
/// <c>POST /api/deliveries/poison/replay?queue=github-deployments[&amp;delivery=GUID]</c> moves them back onto their queue.
/// </summary>
public sealed class PoisonFunctions(PoisonQueues poison)
{
    public const string List = "PoisonList";
    public const string Replay = "PoisonReplay";

    [Function(List)]
    public async Task<IActionResult> OnList(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "deliveries/poison")] HttpRequest request,
        CancellationToken cancellationToken) =>
        new SnakeCaseAnswer(200, await poison.ListAsync(cancellationToken));

    [Function(Replay)]
    public async Task<IActionResult> OnReplay(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "deliveries/poison/replay")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var queue = request.Query["queue"].FirstOrDefault();
        if (queue is null || !poison.QueueNames.Contains(queue, StringComparer.Ordinal))
        {
            return new SnakeCaseAnswer(400, new
            {
                status = "rejected",
                reason = $"name the queue to replay onto: queue=<one of {string.Join(", ", poison.QueueNames)}> (the poison queue is its name with -poison)",
            });
        }

        return new SnakeCaseAnswer(200, await poison.ReplayAsync(queue, request.Query["delivery"].FirstOrDefault(), cancellationToken));
    }
}
